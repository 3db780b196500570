"""The invoice PDF as a reader sees it: rasterized with PDFium, and its text extracted.

The invoice is realistic: graduated tiers (with a flat fee), a per-unit
meter, a discount, a prepaid credit and sales tax, with descriptions in the
shape dbt writes them. A second, long invoice checks the page footer.
"""

from dataclasses import replace
from decimal import Decimal

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from exporters.invoice_documents import InvoiceDocument, InvoiceLine
from exporters.invoice_pdf import render_invoice_pdf
from tests.pdf_pages import ink_fraction, rasterize

SPAN = "Oct 1–Oct 31"
# line_type, meter_id, description, quantity, unit_price, amount
_LINES = [
    ("base_fee", None, f"Growth plan base fee, {SPAN}", "1", "499", "499.00"),
    ("seat_fee", None, f"Growth plan seats: 3 above 5 included, {SPAN}", "3", "20", "60.00"),
    ("usage", "api_calls",
     f"API calls, Growth plan, {SPAN}: 250,000 calls — first 100,000: 100,000 × $0; "
     "over 100,000 up to 1,000,000: 150,000 × $0.001", "250000", None, "150.00"),
    ("usage", "storage_gb", f"Storage (peak), Growth plan, {SPAN}: 1,234.5 GB — 1,234.5 × $0.023",
     "1234.5", "0.023", "28.39"),
    ("usage", "compute_minutes",
     f"Compute, Growth plan, {SPAN}: 12,400 minutes — first 10,000: 10,000 × $0.01; "
     "over 10,000: 2,400 × $0.008 + $5 flat", "12400", None, "124.20"),
    ("discount", None, "10% off the base fee (PROMO10), cycle 1 of 3", None, None, "-49.90"),
    ("credit", None, "Prepaid credit (grant g_0001)", None, None, "-100.00"),
    ("tax", None, "Sales tax 8.25%", None, None, "58.71"),
]  # fmt: skip


def invoice_line(number: int, line_type, meter_id, description, quantity, unit_price, amount):
    return InvoiceLine(
        invoice_line_id=f"cus_0001-2026-10-{number}",
        line_number=number,
        line_type=line_type,
        meter_id=meter_id,
        description=description,
        quantity=None if quantity is None else Decimal(quantity),
        unit_price=None if unit_price is None else Decimal(unit_price),
        amount=Decimal(amount),
    )


def usage_only(invoice: InvoiceDocument, lines: tuple[InvoiceLine, ...]) -> InvoiceDocument:
    """`invoice` with these lines and no discount, credit or tax: the total is their sum."""
    total = sum((line.amount for line in lines), Decimal("0.00"))
    zero = Decimal("0.00")
    return replace(
        invoice,
        lines=lines,
        subtotal=total,
        discount_total=zero,
        credit_total=zero,
        tax_total=zero,
        total=total,
    )


@pytest.fixture(scope="module")
def realistic_invoice(usd_invoice: InvoiceDocument) -> InvoiceDocument:
    """$861.59 of charges, less $49.90 discount and $100.00 credit, plus 8.25% tax: $770.40."""
    lines = tuple(invoice_line(n, *row) for n, row in enumerate(_LINES, start=1))
    return replace(
        usd_invoice,
        lines=lines,
        subtotal=Decimal("861.59"),
        discount_total=Decimal("49.90"),
        credit_total=Decimal("100.00"),
        tax_total=Decimal("58.71"),
        total=Decimal("770.40"),
    )


@pytest.fixture(scope="module")
def long_invoice(usd_invoice: InvoiceDocument) -> InvoiceDocument:
    """Sixty usage lines of $1.00: more than one page."""
    lines = tuple(
        invoice_line(
            n, "usage", f"meter_{n}", f"Meter {n}, Growth plan, {SPAN}: 100 calls — 100 × $0.01",
            "100", "0.01", "1.00",
        )
        for n in range(1, 61)
    )  # fmt: skip
    return usage_only(usd_invoice, lines)


def test_the_invoice_page_is_drawn_and_reads_right(realistic_invoice, tmp_path) -> None:
    pdf_path = render_invoice_pdf(realistic_invoice, tmp_path)
    (page,) = rasterize(pdf_path)
    page.save(tmp_path / "INV-000001-page-1.png")

    assert page.size == (1191, 1684)  # A4 at 144 dpi
    assert 0.02 < ink_fraction(page) < 0.4
    top, bottom = page.crop((0, 0, page.width, 300)), page.crop((0, 1600, page.width, 1684))
    assert ink_fraction(top) > 0.01, "the masthead is blank"
    assert ink_fraction(bottom) > 0.001, "the page footer is blank"

    text = PdfReader(pdf_path).pages[0].extract_text()
    for snippet in (
        "INV-000001",
        "Acme Analytics, Inc.",
        "$770.40",
        "$861.59",
        "-$49.90",
        "-$100.00",
        "$58.71",
        "Sales tax 8.25%",
        "Oct 1 – Oct 31, 2026",
        "Nov 9, 2026",
        "over 100,000 up to 1,000,000: 150,000 × $0.001",
        "Page 1 of 1",
    ):
        assert snippet in text, snippet


def test_every_page_of_a_long_invoice_names_it(long_invoice, tmp_path) -> None:
    pdf_path = render_invoice_pdf(long_invoice, tmp_path)
    pages = rasterize(pdf_path, scale=1.0)
    assert len(pages) >= 2
    assert all(ink_fraction(page) > 0.01 for page in pages)
    texts = [page.extract_text() for page in PdfReader(pdf_path).pages]
    for number, text in enumerate(texts, start=1):
        assert "Invoice INV-000001" in text
        assert f"Page {number} of {len(texts)}" in text
        assert "DESCRIPTION" in text.upper(), "the table header repeats on every page"
    assert "$60.00" in texts[-1]


def test_a_long_customer_name_leaves_the_invoice_facts_on_the_page(usd_invoice, tmp_path) -> None:
    name = (
        "Consolidated Intercontinental Metering and Analytics Holdings Worldwide, "
        "Limited Liability Partnership"
    )
    pdf_path = render_invoice_pdf(replace(usd_invoice, customer_name=name), tmp_path)
    pdf = pdfium.PdfDocument(pdf_path)
    try:
        on_the_page = pdf[0].get_textpage().get_text_bounded()
    finally:
        pdf.close()
    assert "Oct 1 – Oct 31, 2026" in on_the_page, "the billing period runs off the page"
    assert "Nov 9, 2026" in on_the_page


def test_typst_specials_in_the_data_print_as_they_are(usd_invoice, tmp_path) -> None:
    """Names and descriptions are data, never Typst markup, code or maths."""
    name = 'Acme "#1" $x [a] \\ *b* <c> @d = e {{ f }} // g'
    description = 'Setup fee #set page(paper: "a5") $1 + 1$ _not emphasis_'
    lines = (replace(usd_invoice.lines[0], description=description), *usd_invoice.lines[1:])
    doc = replace(usd_invoice, customer_name=name, lines=lines)
    pdf_path = render_invoice_pdf(doc, tmp_path)
    reader = PdfReader(pdf_path)
    text = " ".join(reader.pages[0].extract_text().split())  # the name may wrap
    assert name in text
    assert description in text
    assert reader.metadata["/Title"] == f"Invoice INV-000001 — {name}"
    assert len(reader.pages) == 1


def test_a_line_and_its_tiers_stay_on_one_page(usd_invoice, tmp_path) -> None:
    """Twenty tiered lines take more than a page; no line is split across two."""
    description = (
        f"Meter {{}}, Growth plan, {SPAN}: 250,000 calls — first 100,000: 100,000 × $0; "
        "over 100,000 up to 1,000,000: 150,000 × $0.001; over 1,000,000: 0 × $0.0005"
    )
    lines = tuple(
        invoice_line(n, "usage", f"m{n}", description.format(n), "250000", None, "150.00")
        for n in range(1, 21)
    )
    doc = usage_only(usd_invoice, lines)
    texts = [page.extract_text() for page in PdfReader(render_invoice_pdf(doc, tmp_path)).pages]
    assert len(texts) >= 2
    for text in texts:
        assert text.count("250,000 calls") == text.count("over 1,000,000: 0 × $0.0005")
    assert sum(text.count("250,000 calls") for text in texts) == 20
