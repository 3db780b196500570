"""Invoices as the exporters see them: one immutable document per invoice.

The PDF, the Stripe requests and the QuickBooks requests are all built from an
`InvoiceDocument`, so they cannot disagree about what an invoice says. Reading
is three queries (headers with their customer, all lines, all credit notes)
rather than some per invoice, because a period can hold thousands of invoices.

An issued invoice never changes; finance's credit notes against it
(`raw.credit_notes`, written by `billing credit-note`) come with the document
so the syncs can void or credit it at the provider. The PDF shows the invoice
as issued and ignores them.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import duckdb

INVOICE_STATUSES = ("draft", "finalized")

_HEADER_COLUMNS = (
    "invoice_id",
    "invoice_number",
    "customer_id",
    "period_start",
    "period_end",
    "currency",
    "subtotal",
    "discount_total",
    "credit_total",
    "tax_total",
    "total",
    "status",
    "issued_on",
    "due_on",
    "finalized_at",
    "content_hash",
)
_CUSTOMER_COLUMNS = (
    "name",
    "email",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
)
_LINE_COLUMNS = (
    "invoice_line_id",
    "invoice_id",
    "line_number",
    "line_type",
    "meter_id",
    "description",
    "quantity",
    "unit_price",
    "amount",
    "currency",
)


class InvoiceDataError(ValueError):
    """The marts hold an invoice the exporters must not send or render."""


@dataclass(frozen=True)
class Address:
    """A postal address; every part is optional except what dim_customers requires."""

    line1: str | None
    line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str | None

    def display_lines(self) -> tuple[str, ...]:
        """The address as printed on an envelope, skipping missing parts."""
        locality = " ".join(part for part in (self.region, self.postal_code) if part)
        city_line = ", ".join(part for part in (self.city, locality) if part)
        parts = (self.line1, self.line2, city_line, self.country)
        return tuple(part for part in parts if part)


@dataclass(frozen=True)
class InvoiceLine:
    """One line of `fct_invoice_lines`; discount and credit amounts are negative."""

    invoice_line_id: str
    line_number: int
    line_type: str
    meter_id: str | None
    description: str
    quantity: Decimal | None
    unit_price: Decimal | None
    amount: Decimal


@dataclass(frozen=True)
class CreditNoteRef:
    """A credit note issued against an invoice; `voids_invoice` when it credits all still due."""

    credit_note_id: str
    amount: Decimal
    voids_invoice: bool


@dataclass(frozen=True)
class InvoiceDocument:
    """Everything a rendered or synced invoice says, as of one read of the marts."""

    invoice_id: str
    invoice_number: str | None
    status: str
    customer_id: str
    customer_name: str
    customer_email: str
    customer_address: Address
    seller_name: str
    currency: str
    period_start: date
    period_end: date
    issued_on: date
    due_on: date
    finalized_at: datetime | None
    content_hash: str
    subtotal: Decimal
    discount_total: Decimal
    credit_total: Decimal
    tax_total: Decimal
    total: Decimal
    lines: tuple[InvoiceLine, ...]
    credit_notes: tuple[CreditNoteRef, ...] = ()

    @property
    def period_last_day(self) -> date:
        """The last billed day: `period_end` is the exclusive bound."""
        return self.period_end - timedelta(days=1)

    @property
    def is_finalized(self) -> bool:
        return self.status == "finalized"

    @property
    def voiding_credit_note(self) -> CreditNoteRef | None:
        """The credit note that voids this invoice, if one does."""
        return next((note for note in self.credit_notes if note.voids_invoice), None)

    @property
    def partial_credit_notes(self) -> tuple[CreditNoteRef, ...]:
        """Credit notes for part of the amount due, in the order they were issued."""
        return tuple(note for note in self.credit_notes if not note.voids_invoice)

    def require_number(self) -> str:
        """The invoice number, or an error: only finalized invoices have one and may be sent."""
        if not self.is_finalized or not self.invoice_number:
            raise InvoiceDataError(
                f"invoice {self.invoice_id} is {self.status} without a number; "
                "only finalized invoices are sent"
            )
        return self.invoice_number


def check_balances(doc: InvoiceDocument) -> None:
    """Refuse an invoice whose header and lines disagree.

    dbt tests guard this too; checking again here means a broken mart can
    never reach a customer's PDF or card.
    """
    lines_total = sum((line.amount for line in doc.lines), Decimal(0))
    header_total = doc.subtotal - doc.discount_total - doc.credit_total + doc.tax_total
    if lines_total != doc.total or header_total != doc.total:
        raise InvoiceDataError(
            f"invoice {doc.invoice_id}: total {doc.total} but lines sum to {lines_total} "
            f"and subtotal - discounts - credits + tax = {header_total}"
        )
    if doc.total < 0:
        raise InvoiceDataError(f"invoice {doc.invoice_id}: total {doc.total} is negative")


def read_invoice_documents(
    conn: duckdb.DuckDBPyConnection, period_start: date, *, status: str = "finalized"
) -> list[InvoiceDocument]:
    """Read a period's invoices with their customer, seller and lines.

    Ordered by invoice number, then customer (drafts have no number yet).
    Each document carries the credit notes issued against it, oldest first.
    """
    if status not in INVOICE_STATUSES:
        raise ValueError(f"status must be one of {INVOICE_STATUSES}, got {status!r}")
    seller_name = _read_company_name(conn)
    lines_by_invoice = _read_lines(conn, period_start, status)
    notes_by_invoice = _read_credit_notes(conn, period_start)
    header_sql = f"""
        select {", ".join(f"i.{c}" for c in _HEADER_COLUMNS)},
               c.customer_id is not null as customer_found,
               {", ".join(f"c.{c}" for c in _CUSTOMER_COLUMNS)}
        from main.fct_invoice_register as i
        left join main.dim_customers as c on c.customer_id = i.customer_id
        where i.period_start = ? and i.status = ?
        order by i.invoice_number nulls last, i.customer_id
    """
    documents = []
    for row in conn.execute(header_sql, [period_start, status]).fetchall():
        header = dict(zip(_HEADER_COLUMNS, row[: len(_HEADER_COLUMNS)], strict=True))
        found, *customer_values = row[len(_HEADER_COLUMNS) :]
        if not found:
            raise InvoiceDataError(
                f"invoice {header['invoice_id']}: customer {header['customer_id']!r} "
                "is not in dim_customers"
            )
        customer = dict(zip(_CUSTOMER_COLUMNS, customer_values, strict=True))
        invoice_id = header["invoice_id"]
        documents.append(
            _document(
                header,
                customer,
                seller_name,
                lines_by_invoice[invoice_id],
                notes_by_invoice.get(invoice_id, []),
            )
        )
    return documents


def _document(
    header: dict,
    customer: dict,
    seller_name: str,
    lines: list[InvoiceLine],
    credit_notes: list[CreditNoteRef],
) -> InvoiceDocument:
    return InvoiceDocument(
        invoice_id=header["invoice_id"],
        invoice_number=header["invoice_number"],
        status=header["status"],
        customer_id=header["customer_id"],
        customer_name=customer["name"],
        customer_email=customer["email"],
        customer_address=Address(
            line1=customer["address_line1"],
            line2=customer["address_line2"],
            city=customer["city"],
            region=customer["region"],
            postal_code=customer["postal_code"],
            country=customer["country"],
        ),
        seller_name=seller_name,
        currency=header["currency"],
        period_start=header["period_start"],
        period_end=header["period_end"],
        issued_on=header["issued_on"],
        due_on=header["due_on"],
        finalized_at=header["finalized_at"],
        content_hash=header["content_hash"],
        subtotal=header["subtotal"],
        discount_total=header["discount_total"],
        credit_total=header["credit_total"],
        tax_total=header["tax_total"],
        total=header["total"],
        lines=tuple(lines),
        credit_notes=tuple(credit_notes),
    )


def _read_company_name(conn: duckdb.DuckDBPyConnection) -> str:
    rows = conn.execute("select company_name from raw.settings").fetchall()
    if len(rows) != 1:
        raise InvoiceDataError(f"raw.settings must hold exactly one row, found {len(rows)}")
    return rows[0][0]


def _read_lines(
    conn: duckdb.DuckDBPyConnection, period_start: date, status: str
) -> dict[str, list[InvoiceLine]]:
    sql = f"""
        select {", ".join(f"l.{c}" for c in _LINE_COLUMNS)}, i.currency as invoice_currency
        from main.fct_invoice_lines as l
        join main.fct_invoice_register as i on i.invoice_id = l.invoice_id
        where i.period_start = ? and i.status = ?
        order by l.invoice_id, l.line_number
    """
    lines: dict[str, list[InvoiceLine]] = defaultdict(list)
    for row in conn.execute(sql, [period_start, status]).fetchall():
        values = dict(zip((*_LINE_COLUMNS, "invoice_currency"), row, strict=True))
        if values["currency"] != values["invoice_currency"]:
            raise InvoiceDataError(
                f"invoice line {values['invoice_line_id']}: currency {values['currency']} "
                f"differs from its invoice's {values['invoice_currency']}"
            )
        lines[values["invoice_id"]].append(
            InvoiceLine(
                invoice_line_id=values["invoice_line_id"],
                line_number=values["line_number"],
                line_type=values["line_type"],
                meter_id=values["meter_id"],
                description=values["description"],
                quantity=values["quantity"],
                unit_price=values["unit_price"],
                amount=values["amount"],
            )
        )
    return lines


def _read_credit_notes(
    conn: duckdb.DuckDBPyConnection, period_start: date
) -> dict[str, list[CreditNoteRef]]:
    """The period's credit notes by invoice id; none before the first note created the table."""
    (exists,) = conn.execute(
        """
        select count(*) from information_schema.tables
        where table_schema = 'raw' and table_name = 'credit_notes'
        """
    ).fetchone()
    if not exists:
        return {}
    sql = """
        select n.invoice_id, n.credit_note_id, n.amount, n.voids_invoice
        from raw.credit_notes as n
        join main.fct_invoice_register as i on i.invoice_id = n.invoice_id
        where i.period_start = ?
        order by n.credit_note_sequence
    """
    notes: dict[str, list[CreditNoteRef]] = defaultdict(list)
    for invoice_id, credit_note_id, amount, voids_invoice in conn.execute(
        sql, [period_start]
    ).fetchall():
        notes[invoice_id].append(CreditNoteRef(credit_note_id, amount, voids_invoice))
    return notes
