"""One warm Typst compiler: the module renders the three invoices once and shares them."""

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from exporters import invoice_pdf
from exporters.invoice_pdf import (
    PARALLEL_RENDER_FROM,
    TEMPLATE_VERSION,
    period_label,
    render_invoice_pdf,
    render_invoice_pdfs,
    render_processes,
)


@pytest.fixture(scope="module")
def pdf_dir(tmp_path_factory: pytest.TempPathFactory, documents) -> Path:
    out_dir = tmp_path_factory.mktemp("pdfs")
    render_invoice_pdfs(documents, out_dir)
    return out_dir


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_period_label_spans_years_when_it_must(usd_invoice):
    december = replace(usd_invoice, period_start=date(2026, 12, 1), period_end=date(2027, 1, 1))
    assert period_label(december) == "Dec 1 – Dec 31, 2026"
    odd = replace(usd_invoice, period_start=date(2026, 12, 15), period_end=date(2027, 1, 15))
    assert period_label(odd) == "Dec 15, 2026 – Jan 14, 2027"


def test_pdfs_are_named_by_invoice_number(pdf_dir):
    names = sorted(path.name for path in pdf_dir.iterdir())
    assert names == ["INV-000001.pdf", "INV-000002.pdf", "INV-000003.pdf"]
    for path in pdf_dir.iterdir():
        assert path.read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("INV-000001", ["Acme Analytics, Inc.", "$635.96", "-$49.90", "Sales tax 8.25%"]),
        ("INV-000002", ["Kaito Robotics K.K.", "¥61,790", "¥0.5"]),
        ("INV-000003", ["Zeta & Sons", "€0.00", "nothing to pay"]),
    ],
)
def test_pdf_text_shows_number_customer_and_total(pdf_dir, number, expected):
    text = pdf_text(pdf_dir / f"{number}.pdf")
    for snippet in [number, "Northwind Metering Ltd", "Oct 1 – Oct 31, 2026", *expected]:
        assert snippet in text


def test_pdf_metadata_is_fixed_by_the_invoice(pdf_dir):
    metadata = PdfReader(pdf_dir / "INV-000001.pdf").metadata
    assert metadata["/CreationDate"] == "D:20261104000500Z"
    assert metadata["/Title"] == "Invoice INV-000001 — Acme Analytics, Inc."
    assert metadata["/Author"] == "Northwind Metering Ltd"
    assert metadata["/Keywords"] == TEMPLATE_VERSION


def test_finalized_pdf_is_never_rendered_again(pdf_dir, usd_invoice):
    path = pdf_dir / "INV-000001.pdf"
    before = path.read_bytes()
    changed = replace(usd_invoice, customer_name="Renamed Corp")
    assert render_invoice_pdf(changed, pdf_dir) == path
    assert path.read_bytes() == before


def test_rendering_is_deterministic(pdf_dir, jpy_invoice, tmp_path):
    again = render_invoice_pdf(jpy_invoice, tmp_path)
    assert again.read_bytes() == (pdf_dir / "INV-000002.pdf").read_bytes()


def test_draft_preview_is_rerendered(usd_invoice, tmp_path):
    draft = replace(usd_invoice, status="draft", invoice_number=None, finalized_at=None)
    path = render_invoice_pdf(draft, tmp_path)
    assert path.name == "DRAFT-cus_0001-2026-10.pdf"
    assert "DRAFT" in pdf_text(path)
    render_invoice_pdf(replace(draft, customer_name="Renamed Corp"), tmp_path)
    assert "Renamed Corp" in pdf_text(path)


def test_small_batches_render_in_this_process():
    assert render_processes(PARALLEL_RENDER_FROM - 1, workers=2) == 1
    assert render_processes(PARALLEL_RENDER_FROM, workers=2) == 2
    assert render_processes(PARALLEL_RENDER_FROM, workers=1) == 1


def test_worker_processes_write_the_bytes_this_process_writes(documents, tmp_path, monkeypatch):
    monkeypatch.setattr(invoice_pdf, "PARALLEL_RENDER_FROM", 4)
    batch = [
        replace(doc, invoice_number=f"{doc.invoice_number}-{copy}")
        for copy in range(2)
        for doc in documents
    ]
    pooled = render_invoice_pdfs(batch, tmp_path / "pool", workers=2)
    alone = render_invoice_pdfs(batch, tmp_path / "alone", workers=1)
    assert [path.name for path in pooled] == [path.name for path in alone]
    for pooled_pdf, alone_pdf in zip(pooled, alone, strict=True):
        assert pooled_pdf.read_bytes() == alone_pdf.read_bytes(), pooled_pdf.name
