"""A small warehouse with the marts the exporters read, built by hand.

dbt builds the real tables; these have the same columns and hold four
invoices for October 2026: a USD invoice with every kind of line, a JPY one,
a zero-total one paid by credits, and a draft.
"""

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from exporters.invoice_documents import InvoiceDocument, read_invoice_documents

PERIOD = date(2026, 10, 1)

_TABLES = {
    "main.fct_invoice_register": """
        invoice_id varchar, invoice_number varchar, customer_id varchar,
        period_start date, period_end date, currency varchar,
        subtotal decimal(18, 2), discount_total decimal(18, 2), credit_total decimal(18, 2),
        tax_total decimal(18, 2), total decimal(18, 2), status varchar,
        issued_on date, due_on date, finalized_at timestamp, content_hash varchar
    """,
    "main.fct_invoice_lines": """
        invoice_line_id varchar, invoice_id varchar, line_number integer, customer_id varchar,
        period_start date, line_type varchar, meter_id varchar, description varchar,
        quantity decimal(38, 12), unit_price decimal(38, 12), amount decimal(18, 2),
        currency varchar
    """,
    "main.dim_customers": """
        customer_id varchar, name varchar, email varchar, currency varchar,
        tax_rate decimal(38, 12), country varchar, segment varchar, address_line1 varchar,
        address_line2 varchar, city varchar, region varchar, postal_code varchar
    """,
    "raw.settings": """
        invoice_grace_days integer, payment_grace_days integer, invoice_prefix varchar,
        future_tolerance_minutes integer, company_name varchar
    """,
}

_CUSTOMER_COLUMNS = (
    "customer_id, name, email, currency, tax_rate, country, segment,"
    " address_line1, address_line2, city, region, postal_code"
)
_CUSTOMERS = [
    ("cus_0001", "Acme Analytics, Inc.", "billing@acme.example", "USD", "0.0825", "US", "ent",
     "500 Market Street", "Suite 1200", "San Francisco", "CA", "94105"),
    ("cus_0002", "Kaito Robotics K.K.", "ap@kaito.example", "JPY", "0.10", "JP", "smb",
     None, None, None, None, None),
    ("cus_0003", "Zeta & Sons", "zeta@zeta.example", "EUR", "0.20", "DE", "smb",
     "Hauptstraße 5", None, "Berlin", None, "10115"),
    ("cus_0004", "Draft Corp", "draft@draft.example", "USD", "0", "US", "smb",
     None, None, None, None, None),
]  # fmt: skip

# customer_id (the invoice is "<customer_id>-2026-10"), invoice_number, currency,
# subtotal, discount_total, credit_total, tax_total, total, status
_INVOICES = [
    ("cus_0001", "INV-000001", "USD", "737.39", "49.90", "100.00", "48.47", "635.96", "finalized"),
    ("cus_0002", "INV-000002", "JPY", "56173", "0", "0", "5617", "61790", "finalized"),
    ("cus_0003", "INV-000003", "EUR", "99.00", "0", "99.00", "0", "0", "finalized"),
    ("cus_0004", None, "USD", "10.00", "0", "0", "0", "10.00", "draft"),
]  # fmt: skip

# customer_id, line_number, line_type, meter_id, quantity, unit_price, amount, description
_LINES = [
    ("cus_0001", 1, "base_fee", None, "1", "499", "499.00", "Growth plan — base fee, Oct 1–31"),
    ("cus_0001", 2, "seat_fee", None, "3", "20", "60.00", "Seats above 5 included, Oct 1–31"),
    ("cus_0001", 3, "usage", "api_calls", "250000", None, "150.00",
     "API calls — Growth plan, Oct 1–31: 0–100,000 × $0.00 + 100,000–250,000 × $0.001"),
    ("cus_0001", 4, "usage", "storage_gb", "1234.5", "0.023", "28.39",
     "Storage — Growth plan, Oct 1–31: 1,234.5 GB × $0.023"),
    ("cus_0001", 5, "discount", None, None, None, "-49.90", "Discount PROMO10 — 10% off base fee"),
    ("cus_0001", 6, "credit", None, None, None, "-100.00", "Prepaid credit (grant g_0001)"),
    ("cus_0001", 7, "tax", None, None, None, "48.47", "Sales tax 8.25%"),
    ("cus_0002", 1, "base_fee", None, "1", "50000", "50000", "Starter plan — base fee, Oct 1–31"),
    ("cus_0002", 2, "usage", "api_calls", "12345", "0.5", "6173",
     "API calls — Starter plan, Oct 1–31: 12,345 × ¥0.5"),
    ("cus_0002", 3, "tax", None, None, None, "5617", "Consumption tax 10%"),
    ("cus_0003", 1, "base_fee", None, "1", "99", "99.00", "Basic plan — base fee, Oct 1–31"),
    ("cus_0003", 2, "credit", None, None, None, "-99.00", "Promotional credit (grant g_0007)"),
    ("cus_0003", 3, "tax", None, None, None, "0", "VAT 20%"),
    ("cus_0004", 1, "base_fee", None, "1", "10", "10.00", "Tiny plan — base fee, Oct 1–31"),
]  # fmt: skip


def build_warehouse(path: Path) -> None:
    """Create and fill the marts at `path` the way dbt would."""
    invoices = """
        insert into main.fct_invoice_register
        select $1 || '-2026-10', $2, $1, date '2026-10-01', date '2026-11-01', $3,
               $4, $5, $6, $7, $8, $9, date '2026-11-04', date '2026-11-09',
               case when $9 = 'finalized' then timestamp '2026-11-04 00:05:00' end,
               'hash-' || $1
    """
    lines = """
        insert into main.fct_invoice_lines
        select $1 || '-2026-10-' || $2, $1 || '-2026-10', $2, $1, date '2026-10-01', $3, $4,
               $8, $5, $6, $7, (select currency from main.dim_customers where customer_id = $1)
    """
    customers = (
        f"insert into main.dim_customers ({_CUSTOMER_COLUMNS}) values ({', '.join('?' * 12)})"
    )
    with duckdb.connect(str(path)) as conn:
        conn.execute("create schema raw")
        for table, columns in _TABLES.items():
            conn.execute(f"create table {table} ({columns})")
        conn.execute("insert into raw.settings values (3, 5, 'INV', 5, 'Northwind Metering Ltd')")
        for sql, rows in ((customers, _CUSTOMERS), (invoices, _INVOICES), (lines, _LINES)):
            for row in rows:
                conn.execute(sql, list(row))


@pytest.fixture(scope="session")
def period() -> date:
    return PERIOD


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("warehouse") / "billing.duckdb"
    build_warehouse(path)
    return path


@pytest.fixture
def warehouse_copy(warehouse: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the warehouse, for syncs that record their state in it."""
    path = tmp_path / "billing.duckdb"
    shutil.copy(warehouse, path)
    return path


@pytest.fixture
def conn(warehouse_copy: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(warehouse_copy)) as connection:
        yield connection


@pytest.fixture
def sleeps() -> list[float]:
    """The backoff delays a sync asked for; nothing really sleeps."""
    return []


@pytest.fixture(scope="session")
def documents(warehouse: Path) -> list[InvoiceDocument]:
    """The three finalized October invoices: USD, JPY, zero-total EUR."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return read_invoice_documents(conn, PERIOD)


@pytest.fixture(scope="session")
def usd_invoice(documents: list[InvoiceDocument]) -> InvoiceDocument:
    return documents[0]


@pytest.fixture(scope="session")
def jpy_invoice(documents: list[InvoiceDocument]) -> InvoiceDocument:
    return documents[1]


@pytest.fixture(scope="session")
def zero_invoice(documents: list[InvoiceDocument]) -> InvoiceDocument:
    return documents[2]
