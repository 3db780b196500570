"""Credit notes: finance voids or partially credits an issued invoice.

A finalized invoice never changes (SPEC "Invoice lifecycle"); a credit note is
a new record against it, numbered gap-free (CN-000001, ...) in the same
transaction that checks it. One for the whole amount still due voids the
invoice. dbt turns credit notes into ledger entries, revenue reversals and the
invoice's `void` status.

Paid invoices are refused: crediting one means a refund, which this pipeline
does not send; a credit grant in credit_grants.csv gives the customer the
money back on their next invoice instead.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import duckdb

from loaders.currencies import CURRENCY_MINOR_UNITS
from loaders.errors import InputError
from loaders.raw_schema import FINANCE_TABLES, create_table_sql

CREDIT_NOTE_PREFIX = "CN"
CREDITABLE_STATUSES = ("finalized", "sent", "payment_failed")


@dataclass(frozen=True)
class CreditNote:
    credit_note_id: str
    invoice_number: str
    customer_id: str
    currency: str
    amount: Decimal
    voids_invoice: bool
    reason: str
    issued_at: datetime


def ensure_finance_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Create finance's record tables if missing (dbt reads them before any is written)."""
    conn.execute("create schema if not exists raw")
    for name, columns in FINANCE_TABLES.items():
        conn.execute(create_table_sql(name, columns, replace=False))


def issue_credit_note(
    conn: duckdb.DuckDBPyConnection,
    invoice_number: str,
    *,
    amount: Decimal | None,
    reason: str,
    issued_at: datetime,
) -> CreditNote:
    """Credit `amount` (default: everything still due, which voids the invoice).

    Raises InputError naming the invoice when it cannot be credited: unknown,
    still a draft, already void or paid, or an amount that is not positive,
    has more decimals than its currency, or exceeds what is still due.
    """
    if not reason.strip():
        raise InputError(f"credit note for {invoice_number}: a reason is required")
    ensure_finance_tables(conn)
    conn.execute("begin transaction")
    try:
        note = _issue(conn, invoice_number, amount, reason.strip(), issued_at)
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    return note


def _issue(
    conn: duckdb.DuckDBPyConnection,
    invoice_number: str,
    amount: Decimal | None,
    reason: str,
    issued_at: datetime,
) -> CreditNote:
    row = conn.execute(
        """
        select invoice_id, customer_id, currency, status, total - amount_credited
        from main.fct_invoices
        where invoice_number = ?
        """,
        [invoice_number],
    ).fetchone()
    if row is None:
        raise InputError(f"credit note: no issued invoice numbered {invoice_number!r}")
    invoice_id, customer_id, currency, status, creditable = row
    if status not in CREDITABLE_STATUSES:
        raise InputError(
            f"credit note for {invoice_number}: the invoice is {status}; only "
            f"{', '.join(CREDITABLE_STATUSES)} invoices can be credited"
        )
    credited = creditable if amount is None else _checked_amount(invoice_number, amount, currency)
    if credited <= 0 or credited > creditable:
        raise InputError(
            f"credit note for {invoice_number}: amount {credited} {currency} must be more "
            f"than 0 and at most the {creditable} {currency} still due"
        )
    (sequence,) = conn.execute(
        "select coalesce(max(credit_note_sequence), 0) + 1 from raw.credit_notes"
    ).fetchone()
    note = CreditNote(
        credit_note_id=f"{CREDIT_NOTE_PREFIX}-{sequence:06d}",
        invoice_number=invoice_number,
        customer_id=customer_id,
        currency=currency,
        amount=credited,
        voids_invoice=credited == creditable,
        reason=reason,
        issued_at=issued_at,
    )
    conn.execute(
        "insert into raw.credit_notes values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            note.credit_note_id,
            sequence,
            invoice_id,
            invoice_number,
            customer_id,
            currency,
            note.amount,
            note.voids_invoice,
            reason,
            issued_at,
        ],
    )
    return note


def _checked_amount(invoice_number: str, amount: Decimal, currency: str) -> Decimal:
    minor_units = CURRENCY_MINOR_UNITS[currency]
    if amount != amount.quantize(Decimal(1).scaleb(-minor_units)):
        raise InputError(
            f"credit note for {invoice_number}: amount {amount} has more decimals than "
            f"{currency} allows ({minor_units})"
        )
    return amount
