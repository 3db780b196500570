"""Typst markup to PDF bytes, with one compiler per process and data kept literal.

Typst lays out an invoice in milliseconds where WeasyPrint took a fifth of a
second (issue #6), but its markup is a language: `#`, `$`, `*`, `[`, `@`, `<`
and `\\` in a customer's name would be code, maths or markup. Templates
therefore put every value inside a Typst string literal, `#text("...")`, and
`typst_string` is the Jinja2 `finalize` hook that makes each `{{ }}` a valid
literal body, so escaping cannot be forgotten in a template.

The compiler sees DejaVu Sans only, from Debian's fonts-dejavu-core, and no
system or embedded fonts: the PDF then does not depend on what else the
machine has installed, and scanning one directory is cheap.
"""

import functools
from datetime import UTC, datetime
from pathlib import Path

import typst

FONT_FAMILY = "DejaVu Sans"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_PACKAGE = "fonts-dejavu-core"

# Backslash first, so the backslashes the other escapes add are not doubled.
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class MissingFontError(RuntimeError):
    """The invoice font is not installed where the compiler looks for it."""


def typst_string(value: object) -> str:
    """Escape `value` for use between the quotes of a Typst string literal."""
    return "".join(_escape_char(char) for char in str(value))


def compile_pdf(markup: str, created: datetime) -> bytes:
    """Compile Typst markup to PDF bytes, stamped with `created` (naive means UTC).

    The timestamp stands in for the clock, so the same markup gives the same
    bytes. Accessibility tags are left out: they triple the file size and
    nothing reads them.
    """
    moment = created if created.tzinfo else created.replace(tzinfo=UTC)
    return _compiler().compile(markup.encode(), format="pdf", timestamp=moment, pdf_tags=False)


def _escape_char(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return f"\\u{{{ord(char):x}}}"
    return char


@functools.cache
def _compiler() -> typst.Compiler:
    """One compiler per process: it keeps the parsed fonts and Typst's caches warm."""
    fonts = typst.Fonts(
        include_system_fonts=False, include_embedded_fonts=False, font_paths=[str(FONT_DIR)]
    )
    if FONT_FAMILY not in fonts.families():
        raise MissingFontError(
            f"The invoice font {FONT_FAMILY!r} is not in {FONT_DIR}: "
            f"install Debian's {FONT_PACKAGE} package (apt-get install {FONT_PACKAGE})."
        )
    return typst.Compiler(font_paths=fonts, ignore_system_fonts=True)
