"""Invoice PDFs: a versioned Jinja2 template of Typst markup, compiled by Typst.

A finalized invoice is immutable, and so is its PDF: once written it is never
rendered again, so a template change cannot alter what a customer received.
Rendering is deterministic (same document, same bytes): the PDF's creation
date is the invoice's `finalized_at` (its issue date for a draft), and Typst
adds no id or clock reading of its own.
"""

import functools
import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, time
from decimal import Decimal
from itertools import repeat
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from exporters.files import write_atomically
from exporters.invoice_documents import InvoiceDocument, check_balances
from exporters.money import format_money, format_price
from exporters.typst_pdf import compile_pdf, typst_string

TEMPLATE_VERSION = "invoice_v2"
TEMPLATE_DIR = Path(__file__).parent / "templates"

# An invoice costs ~15-20 ms of CPU, so a batch renders in this process unless
# it is big enough for worker processes (0.4-1.5 s of start-up each, and no gain
# at all while the machine's other work keeps its cores busy) to pay clearly.
PARALLEL_RENDER_FROM = 2000
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


def render_invoice_typst(doc: InvoiceDocument) -> str:
    """The invoice as Typst markup, every value from `doc` escaped into a string literal."""
    check_balances(doc)
    template = _environment().get_template(f"{TEMPLATE_VERSION}.typ.j2")
    return template.render(
        doc=doc,
        title=f"Invoice {doc.invoice_number or 'draft'} — {doc.customer_name}",
        period=period_label(doc),
        template_version=TEMPLATE_VERSION,
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
    created = doc.finalized_at or datetime.combine(doc.issued_on, time())
    write_atomically(path, compile_pdf(render_invoice_typst(doc), created))
    return path


def render_invoice_pdfs(
    docs: Iterable[InvoiceDocument], out_dir: Path, *, workers: int | None = None
) -> list[Path]:
    """Render many invoices and return their paths, in the order given.

    Existing finalized PDFs are skipped before any process starts. A big batch
    is split across `render_processes` processes (spawned, not forked: the
    caller may be a threaded Dagster run); a PDF's bytes do not depend on
    which process rendered it.
    """
    docs = list(docs)
    pending = [d for d in docs if not (d.is_finalized and (out_dir / pdf_filename(d)).exists())]
    processes = render_processes(len(pending), workers)
    if processes == 1:
        for doc in pending:
            render_invoice_pdf(doc, out_dir)
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
            list(pool.map(render_invoice_pdf, pending, repeat(out_dir), chunksize=RENDER_CHUNK))
    return [out_dir / pdf_filename(doc) for doc in docs]


def render_processes(pending: int, workers: int | None = None) -> int:
    """How many processes render `pending` PDFs: this one, or `workers` (one per core)."""
    workers = workers or os.cpu_count() or 1
    return workers if pending >= PARALLEL_RENDER_FROM else 1


@functools.cache
def _environment() -> Environment:
    """Typst templates: no HTML escaping, and every `{{ }}` through `typst_string`."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=False,
        finalize=typst_string,
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
