"""Values stay text in Typst markup, and a missing font says which package to install."""

from datetime import datetime

import pytest
from pypdf import PdfReader

from exporters import typst_pdf
from exporters.typst_pdf import MissingFontError, compile_pdf, typst_string


def test_escaping_leaves_a_valid_string_literal() -> None:
    assert typst_string('a "b" \\c') == 'a \\"b\\" \\\\c'
    assert typst_string("tab\tline\nbell\x07") == "tab\\tline\\nbell\\u{7}"
    assert typst_string("#$*[]<>@_`~/") == "#$*[]<>@_`~/"


def test_an_escaped_value_compiles_to_itself(tmp_path) -> None:
    value = 'Acme "#1" $x [a] \\ *b* <c> @d // e /* f'
    pdf = tmp_path / "value.pdf"
    pdf.write_bytes(compile_pdf(f'#text("{typst_string(value)}")', datetime(2026, 11, 4)))
    assert PdfReader(pdf).pages[0].extract_text() == value


def test_a_missing_font_names_the_debian_package(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(typst_pdf, "FONT_DIR", tmp_path)
    typst_pdf._compiler.cache_clear()
    try:
        with pytest.raises(MissingFontError, match="DejaVu Sans.*fonts-dejavu-core"):
            compile_pdf("Invoice", datetime(2026, 11, 4))
    finally:
        typst_pdf._compiler.cache_clear()
