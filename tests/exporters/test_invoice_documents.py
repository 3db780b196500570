import shutil
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from exporters.invoice_documents import (
    CreditNoteRef,
    InvoiceDataError,
    check_balances,
    read_invoice_documents,
)
from loaders.credit_notes import ensure_finance_tables


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


def test_documents_carry_their_credit_notes_oldest_first(warehouse, period, tmp_path: Path):
    copy = tmp_path / "credited.duckdb"
    shutil.copy(warehouse, copy)
    with duckdb.connect(str(copy)) as conn:
        ensure_finance_tables(conn)
        assert all(doc.credit_notes == () for doc in read_invoice_documents(conn, period))
        for sequence, number, amount, voids in [
            (1, "INV-000002", "61790", True),
            (2, "INV-000001", "35.96", False),
            (3, "INV-000001", "600.00", True),
        ]:
            invoice_id, customer_id, currency = conn.execute(
                "select invoice_id, customer_id, currency from main.fct_invoice_register "
                "where invoice_number = ?",
                [number],
            ).fetchone()
            conn.execute(
                "insert into raw.credit_notes values (?, ?, ?, ?, ?, ?, ?, ?, 'test', now())",
                [f"CN-{sequence:06d}", sequence, invoice_id, number, customer_id, currency,
                 Decimal(amount), voids],
            )  # fmt: skip
        usd, jpy, zero = read_invoice_documents(conn, period)
    assert usd.credit_notes == (
        CreditNoteRef("CN-000002", Decimal("35.96"), voids_invoice=False),
        CreditNoteRef("CN-000003", Decimal("600.00"), voids_invoice=True),
    )
    assert usd.partial_credit_notes == usd.credit_notes[:1]
    assert usd.voiding_credit_note == usd.credit_notes[1]
    assert jpy.voiding_credit_note == CreditNoteRef("CN-000001", Decimal("61790"), True)
    assert (zero.credit_notes, zero.voiding_credit_note) == ((), None)
