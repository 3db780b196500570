"""Send a period's finalized invoices to one provider, or to its outbox.

The one entry the sync assets call: with the provider's credentials in the
environment it syncs for real; without them it writes the exact requests to
the outbox and says so. Credentials are read here, at sync time, and passed
straight to the provider's client; they are never logged or stored.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from exporters.credentials import is_configured
from exporters.invoice_documents import InvoiceDocument
from exporters.outbox_sync import write_invoice_outbox
from exporters.quickbooks.settings import QuickBooksSettings
from exporters.quickbooks.sync import sync_invoices_to_quickbooks
from exporters.stripe.sync import sync_invoices_to_stripe

PROVIDERS = ("stripe", "quickbooks")


@dataclass(frozen=True)
class SyncOutcome:
    """What a sync did: one line per invoice, and the lines of those that failed."""

    provider: str
    mode: str
    lines: tuple[str, ...]
    failures: tuple[str, ...]


def sync_invoices(
    conn: duckdb.DuckDBPyConnection,
    documents: Sequence[InvoiceDocument],
    provider: str,
    *,
    outbox_dir: Path,
    as_of: datetime,
    environ: Mapping[str, str],
) -> SyncOutcome:
    """Sync `documents` to `provider` (live when configured, else the outbox).

    `conn` must be writable: live syncs keep their state in the warehouse.
    """
    if not is_configured(provider, environ):
        report = write_invoice_outbox(documents, outbox_dir, provider)
        lines = (report.message, *(f"{n}: written to the outbox" for n in report.invoice_numbers))
        return SyncOutcome(provider, "outbox", lines, ())
    if provider == "stripe":
        results = sync_invoices_to_stripe(
            conn,
            documents,
            api_key=environ["STRIPE_API_KEY"],
            api_base=environ.get("STRIPE_API_BASE") or None,
            as_of=as_of,
        )
    else:
        settings = QuickBooksSettings.from_environ(environ)
        results = sync_invoices_to_quickbooks(conn, documents, settings=settings)
    lines = tuple(result.summary_line() for result in results)
    failures = tuple(result.summary_line() for result in results if not result.ok)
    return SyncOutcome(provider, "live", lines, failures)
