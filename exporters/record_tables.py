"""The record tables dbt's reporting models read but only commands and exporters write.

`fct_invoices`, the ledger and the reconciliation read credit notes, e-mail
deliveries, Stripe and QuickBooks progress and payment outcomes. A warehouse
that has never synced or credited anything still needs them, empty, before
its first dbt build.
"""

import duckdb

from exporters.invoice_email import ensure_delivery_table
from exporters.quickbooks.state import create_sync_tables as create_quickbooks_tables
from exporters.stripe.state import create_sync_tables as create_stripe_tables
from loaders.credit_notes import ensure_finance_tables


def ensure_record_tables(conn: duckdb.DuckDBPyConnection) -> None:
    ensure_finance_tables(conn)
    create_stripe_tables(conn)
    create_quickbooks_tables(conn)
    ensure_delivery_table(conn)
