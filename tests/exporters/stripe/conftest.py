"""A fresh copy of the exporters' warehouse and a Stripe test server per test.

The sync writes its state into the warehouse, so each test gets its own
copy of the session warehouse (three finalized invoices, due 2026-11-09).
Retries never wait: the policy's sleep records the delays instead.
"""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import duckdb
import pytest

from exporters.invoice_documents import InvoiceDocument
from exporters.stripe.gateway import RetryPolicy
from exporters.stripe.sync import StripeInvoiceResult, sync_invoices_to_stripe
from tests.stripe_server import FakeStripe

BEFORE_DUE = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)
AFTER_DUE = datetime(2026, 11, 10, 6, 0, tzinfo=UTC)

SyncRunner = Callable[..., list[StripeInvoiceResult]]


@pytest.fixture
def stripe_server() -> Iterator[FakeStripe]:
    with FakeStripe() as server:
        yield server


@pytest.fixture
def run_sync(
    conn: duckdb.DuckDBPyConnection,
    documents: list[InvoiceDocument],
    stripe_server: FakeStripe,
    sleeps: list[float],
) -> SyncRunner:
    """Run the sync the way the CLI will: all finalized invoices, one `as_of`."""

    def run(
        *,
        as_of: datetime = AFTER_DUE,
        docs: list[InvoiceDocument] | None = None,
        sleep: Callable[[float], None] = sleeps.append,
    ) -> list[StripeInvoiceResult]:
        return sync_invoices_to_stripe(
            conn,
            documents if docs is None else docs,
            api_key=stripe_server.api_key,
            api_base=stripe_server.api_base,
            as_of=as_of,
            retry=RetryPolicy(sleep=sleep),
        )

    return run
