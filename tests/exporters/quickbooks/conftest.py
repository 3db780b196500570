"""A QuickBooks test server per test, and a private copy of the exporters' warehouse.

The warehouse is `tests/exporters/conftest.py`'s: three finalized October
invoices (USD with discount, credit and tax lines; JPY; a zero-total EUR).
"""

from collections.abc import Callable, Iterator

import duckdb
import pytest

from exporters.invoice_documents import InvoiceDocument
from exporters.quickbooks.client import RetryPolicy
from exporters.quickbooks.settings import QuickBooksSettings
from exporters.quickbooks.sync import QuickBooksInvoiceResult, sync_invoices_to_quickbooks
from tests.qbo_server import QuickBooksTestServer

SyncRun = Callable[..., list[QuickBooksInvoiceResult]]


@pytest.fixture
def qbo() -> Iterator[QuickBooksTestServer]:
    with QuickBooksTestServer() as server:
        yield server


@pytest.fixture
def token_settings(qbo: QuickBooksTestServer) -> QuickBooksSettings:
    """Token-as-is mode, as `QBO_API_BASE` + `QBO_ACCESS_TOKEN` configure it."""
    return QuickBooksSettings.from_environ(
        {
            "QBO_API_BASE": qbo.base_url,
            "QBO_ACCESS_TOKEN": qbo.access_token,
            "QBO_REALM_ID": qbo.realm_id,
        }
    )


@pytest.fixture
def oauth_settings(qbo: QuickBooksTestServer) -> QuickBooksSettings:
    """OAuth mode: intuit-oauth reads the server's discovery document and refreshes there."""
    return QuickBooksSettings.from_environ(
        {
            "QBO_CLIENT_ID": qbo.client_id,
            "QBO_CLIENT_SECRET": qbo.client_secret,
            "QBO_REFRESH_TOKEN": qbo.refresh_token,
            "QBO_REALM_ID": qbo.realm_id,
            "QBO_ENVIRONMENT": qbo.discovery_url,
            "QBO_API_BASE": qbo.base_url,
        }
    )


@pytest.fixture
def run_sync(
    conn: duckdb.DuckDBPyConnection,
    documents: list[InvoiceDocument],
    token_settings: QuickBooksSettings,
    sleeps: list[float],
) -> SyncRun:
    def run(
        docs: list[InvoiceDocument] | None = None,
        settings: QuickBooksSettings | None = None,
    ) -> list[QuickBooksInvoiceResult]:
        return sync_invoices_to_quickbooks(
            conn,
            documents if docs is None else docs,
            settings=settings or token_settings,
            retry=RetryPolicy(attempts=3, first_delay=0.5, max_delay=2.0),
            sleep=sleeps.append,
        )

    return run
