"""`billing sync` end to end: the real console script, the real provider SDK, a test server.

Each test works on a copy of the billed tiny company's warehouse (four
finalized invoices, INV-000001..INV-000004).
"""

import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from orchestration.runs import Deployment
from tests.qbo_server import QuickBooksTestServer
from tests.stripe_server import FakeStripe

BILLING = Path(sys.executable).parent / "billing"
AS_OF = "2026-11-10T00:00:00Z"
PROVIDER_VARIABLES = ("STRIPE_", "QBO_", "SMTP_")


@pytest.fixture
def warehouse(billed: Deployment, tmp_path: Path) -> Path:
    db = tmp_path / "billing.duckdb"
    shutil.copy(billed.db_path, db)
    return db


def _sync(provider: str, db: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(PROVIDER_VARIABLES)}
    return subprocess.run(
        [str(BILLING), "sync", provider, "--db", str(db), "--as-of", AS_OF],
        capture_output=True,
        text=True,
        env={**environ, **variables},
        check=False,
    )


def test_unconfigured_sync_writes_the_outbox_and_says_so(warehouse: Path) -> None:
    done = _sync("stripe", warehouse)
    assert done.returncode == 0, done.stderr
    assert "Stripe is NOT configured: nothing was sent to Stripe" in done.stdout
    assert "INV-000004: written to the outbox" in done.stdout
    invoices = sorted(p.name for p in (warehouse.parent / "outbox" / "stripe").iterdir())
    assert invoices == ["INV-000001", "INV-000002", "INV-000003", "INV-000004"]


def test_quickbooks_sync_books_each_invoice_once(warehouse: Path) -> None:
    with QuickBooksTestServer() as qbo:
        variables = {
            "QBO_API_BASE": qbo.base_url,
            "QBO_ACCESS_TOKEN": qbo.access_token,
            "QBO_REALM_ID": qbo.realm_id,
        }
        first = _sync("quickbooks", warehouse, **variables)
        assert first.returncode == 0, first.stderr
        booked = {i["DocNumber"]: Decimal(str(i["TotalAmt"])) for i in qbo.company.all("Invoice")}
        assert booked == {
            "INV-000001": Decimal("53.06"),
            "INV-000002": Decimal("26.13"),
            "INV-000003": Decimal("416.24"),
            "INV-000004": Decimal("49.00"),
        }
        writes = len(qbo.requests)
        again = _sync("quickbooks", warehouse, **variables)
        assert again.returncode == 0, again.stderr
        assert len(qbo.company.all("Invoice")) == 4
        assert "INV-000003: already in QuickBooks" in again.stdout
        assert qbo.requests[writes:] == []
        assert qbo.access_token not in warehouse.read_bytes().decode("latin-1")


def test_an_invoice_that_cannot_sync_fails_the_command_in_one_line(warehouse: Path) -> None:
    with QuickBooksTestServer() as qbo:
        qbo.fail_next(400, on="Invoice", times=1_000)
        done = _sync(
            "quickbooks",
            warehouse,
            QBO_API_BASE=qbo.base_url,
            QBO_ACCESS_TOKEN=qbo.access_token,
            QBO_REALM_ID=qbo.realm_id,
        )
    assert done.returncode == 1
    message = done.stderr.strip()
    assert "\n" not in message
    expected = "billing sync: 4 invoice(s) could not be synced; first: quickbooks: INV-"
    assert message.startswith(expected)


def test_stripe_sync_finalizes_and_charges_each_invoice_once(warehouse: Path) -> None:
    with FakeStripe() as stripe_server:
        variables = {
            "STRIPE_API_KEY": stripe_server.api_key,
            "STRIPE_API_BASE": stripe_server.api_base,
        }
        first = _sync("stripe", warehouse, **variables)
        assert first.returncode == 0, first.stderr
        invoices = stripe_server.account.invoices.values()
        due = {i["metadata"]["invoice_number"]: (i["status"], i["amount_due"]) for i in invoices}
        assert due == {
            "INV-000001": ("paid", 5306),
            "INV-000002": ("paid", 2613),
            "INV-000003": ("paid", 41624),
            "INV-000004": ("paid", 4900),
        }
        writes = len(stripe_server.applied_writes())
        again = _sync("stripe", warehouse, **variables)
        assert again.returncode == 0, again.stderr
        assert len(stripe_server.applied_writes()) == writes
        assert stripe_server.api_key not in warehouse.read_bytes().decode("latin-1")
