"""Invoice PDFs: a versioned, autoescaped Jinja2 template rendered by WeasyPrint.

A finalized invoice is immutable, and so is its PDF: once written it is never
rendered again, so a template change cannot alter what a customer received.
Rendering is deterministic (same document, same bytes): the PDF's creation
date is the invoice's `finalized_at`, WeasyPrint adds no id of its own, and the
one clock reading left (in embedded fonts) is pinned, see `_pinned_font_clock`.
"""

import functools
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from decimal import Decimal
from itertools import repeat
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from exporters.files import write_atomically
from exporters.invoice_documents import InvoiceDocument, check_balances
from exporters.money import format_money, format_price

TEMPLATE_VERSION = "invoice_v1"
TEMPLATE_DIR = Path(__file__).parent / "templates"

# Below this many PDFs, starting worker processes (~1.5 s of imports each)
# costs more than rendering in this process.
PARALLEL_RENDER_FROM = 8
# Invoices per task handed to a worker: small enough that workers finish
# together when invoice lengths vary, large enough to keep pickling negligible.
RENDER_CHUNK = 16

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def long_date(day: date) -> str:
    """Format a date as "Nov 4, 2026", whatever the machine's locale."""
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def period_label(doc: InvoiceDocument) -> str:
    """Show the first and last billed days, "Oct 1 – Oct 31, 2026" (period_end is exclusive)."""
    first, last = doc.period_start, doc.period_last_day
    if first.year == last.year:
        return f"{_MONTHS[first.month - 1]} {first.day} – {long_date(last)}"
    return f"{long_date(first)} – {long_date(last)}"


def format_quantity(quantity: Decimal | None) -> str:
    """Show a quantity as "250,000" or "1,234.5"; blank when a line has none (tax, credits)."""
    if quantity is None:
        return ""
    return f"{quantity.normalize():,f}"


def pdf_filename(doc: InvoiceDocument) -> str:
    """`INV-000042.pdf` once finalized; a draft preview is named after its invoice id."""
    if doc.is_finalized:
        return f"{doc.require_number()}.pdf"
    return f"DRAFT-{doc.invoice_id}.pdf"


def render_invoice_html(doc: InvoiceDocument, *, embed_stylesheet: bool = True) -> str:
    """The invoice as standalone HTML (also usable as an e-mail body).

    The PDF path leaves the stylesheet out and hands WeasyPrint the one it
    parsed once (`_stylesheet`): parsing it again for every invoice cost up to a
    quarter of a render, and the PDF is byte for byte the same either way.
    """
    check_balances(doc)
    created = f"{doc.finalized_at.isoformat(timespec='seconds')}Z" if doc.finalized_at else None
    template = _environment().get_template(f"{TEMPLATE_VERSION}.html.j2")
    return template.render(
        doc=doc,
        title=f"Invoice {doc.invoice_number or 'draft'} — {doc.customer_name}",
        period=period_label(doc),
        created=created,
        template_version=TEMPLATE_VERSION,
        embed_stylesheet=embed_stylesheet,
    )


def render_invoice_pdf(doc: InvoiceDocument, out_dir: Path) -> Path:
    """Write `<invoice_number>.pdf` under `out_dir` and return its path.

    An existing PDF of a finalized invoice is returned untouched. Draft
    previews are re-rendered every time, as drafts change until finalized.
    The file appears atomically, so a crash never leaves a truncated PDF that
    would then count as the immutable one.
    """
    path = out_dir / pdf_filename(doc)
    if doc.is_finalized and path.exists():
        return path
    html = HTML(string=render_invoice_html(doc, embed_stylesheet=False))
    with _pinned_font_clock(doc.finalized_at or datetime.combine(doc.issued_on, time())):
        pdf = html.write_pdf(stylesheets=[_stylesheet()], font_config=_font_config())
    write_atomically(path, pdf)
    return path


def render_invoice_pdfs(
    docs: Iterable[InvoiceDocument], out_dir: Path, *, workers: int | None = None
) -> list[Path]:
    """Render many invoices and return their paths, in the order given.

    Rendering is CPU-bound, so a batch is split across one process per core
    (spawned, not forked: the caller may be a threaded Dagster run); each
    process loads the template, stylesheet and fonts once. A PDF's bytes do
    not depend on which process rendered it. Existing finalized PDFs are
    skipped before any process starts.
    """
    docs = list(docs)
    pending = [d for d in docs if not (d.is_finalized and (out_dir / pdf_filename(d)).exists())]
    workers = workers or os.cpu_count() or 1
    if workers < 2 or len(pending) < PARALLEL_RENDER_FROM:
        for doc in pending:
            render_invoice_pdf(doc, out_dir)
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            list(pool.map(render_invoice_pdf, pending, repeat(out_dir), chunksize=RENDER_CHUNK))
    return [out_dir / pdf_filename(doc) for doc in docs]


@functools.cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=format_money,
        price=lambda amount, currency: "" if amount is None else format_price(amount, currency),
        quantity=format_quantity,
        long_date=long_date,
    )
    return env


@functools.cache
def _font_config() -> FontConfiguration:
    """Fontconfig's font scan is most of a cold render; do it once per process."""
    return FontConfiguration()


@functools.cache
def _stylesheet() -> CSS:
    """The template's stylesheet, parsed once per process (see `render_invoice_html`)."""
    return CSS(filename=TEMPLATE_DIR / f"{TEMPLATE_VERSION}.css", font_config=_font_config())


@contextmanager
def _pinned_font_clock(moment: datetime) -> Iterator[None]:
    """Make embedded font subsets carry `moment` instead of the time of rendering.

    Without the system library libharfbuzz-subset, WeasyPrint subsets fonts with
    fontTools, which stamps each subset's `head.modified` with the current time
    unless SOURCE_DATE_EPOCH (the reproducible-builds convention) is set. A
    value the caller already set is kept. The environment is process-wide, so
    render from one thread at a time.
    """
    if "SOURCE_DATE_EPOCH" in os.environ:
        yield
        return
    os.environ["SOURCE_DATE_EPOCH"] = str(int(moment.replace(tzinfo=UTC).timestamp()))
    try:
        yield
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]
