import shutil
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from exporters.invoice_documents import (
    InvoiceDataError,
    check_balances,
    read_invoice_documents,
)


def test_finalized_invoices_come_in_number_order(documents):
    assert [doc.invoice_number for doc in documents] == ["INV-000001", "INV-000002", "INV-000003"]
    assert {doc.status for doc in documents} == {"finalized"}


def test_document_carries_customer_seller_and_money(usd_invoice):
    doc = usd_invoice
    assert doc.customer_name == "Acme Analytics, Inc."
    assert doc.customer_email == "billing@acme.example"
    assert doc.seller_name == "Northwind Metering Ltd"
    assert doc.customer_address.display_lines() == (
        "500 Market Street",
        "Suite 1200",
        "San Francisco, CA 94105",
        "US",
    )
    assert doc.total == Decimal("635.96") and isinstance(doc.total, Decimal)
    assert doc.period_end == date(2026, 11, 1)
    assert doc.period_last_day == date(2026, 10, 31)
    assert doc.finalized_at == datetime(2026, 11, 4, 0, 5)


def test_lines_are_in_display_order_with_signed_amounts(usd_invoice):
    lines = usd_invoice.lines
    assert [line.line_number for line in lines] == list(range(1, 8))
    assert [line.line_type for line in lines][-3:] == ["discount", "credit", "tax"]
    assert lines[4].amount == Decimal("-49.90")
    assert lines[2].unit_price is None and lines[2].quantity == Decimal("250000")
    assert sum(line.amount for line in lines) == usd_invoice.total


def test_drafts_are_read_on_request(warehouse, period):
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        drafts = read_invoice_documents(conn, period, status="draft")
        with pytest.raises(ValueError, match="status must be one of"):
            read_invoice_documents(conn, period, status="paid")
        assert read_invoice_documents(conn, date(2026, 9, 1)) == []
    assert [(doc.invoice_id, doc.invoice_number) for doc in drafts] == [("cus_0004-2026-10", None)]
    with pytest.raises(InvoiceDataError, match="only finalized invoices are sent"):
        drafts[0].require_number()


def test_an_invoice_without_its_customer_is_an_error(warehouse, period, tmp_path: Path):
    copy = tmp_path / "broken.duckdb"
    shutil.copy(warehouse, copy)
    with duckdb.connect(str(copy)) as conn:
        conn.execute("delete from main.dim_customers where customer_id = 'cus_0002'")
        with pytest.raises(InvoiceDataError, match="cus_0002-2026-10: customer 'cus_0002'"):
            read_invoice_documents(conn, period)


def test_check_balances_refuses_inconsistent_invoices(usd_invoice, zero_invoice):
    check_balances(usd_invoice)
    check_balances(zero_invoice)
    with pytest.raises(InvoiceDataError, match="lines sum to 635.96"):
        check_balances(replace(usd_invoice, total=Decimal("635.95")))
    with pytest.raises(InvoiceDataError, match="tax = 635.97"):
        check_balances(replace(usd_invoice, tax_total=Decimal("48.48")))
