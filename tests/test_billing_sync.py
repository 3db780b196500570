"""`billing sync` end to end: the `billing` command, the real provider SDK, a test server.

Each test works on a copy of the billed tiny company's warehouse (four
finalized invoices: September's INV-000001 acme 53.06 and INV-000002 beta
26.13, due Oct 9; October's INV-000003 acme 416.24 and INV-000004 beta 49.00,
due Nov 9).
"""

import os
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.runs import Deployment
from tests.billing_cli import CommandResult, run_billing
from tests.conftest import FIXTURES
from tests.qbo_server import QuickBooksTestServer
from tests.stripe_server import FakeStripe

AS_OF = "2026-11-10T00:00:00Z"
PROVIDER_VARIABLES = ("STRIPE_", "QBO_", "SMTP_")


def _sync(provider: str, db: Path, as_of: str = AS_OF, **variables: str) -> CommandResult:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(PROVIDER_VARIABLES)}
    return run_billing(
        "sync", provider, "--db", str(db), "--as-of", as_of, environ={**environ, **variables}
    )


def test_unconfigured_sync_writes_the_outbox_and_says_so(billed_warehouse: Path) -> None:
    done = _sync("stripe", billed_warehouse)
    assert done.returncode == 0, done.stderr
    assert "Stripe is NOT configured: nothing was sent to Stripe" in done.stdout
    assert "INV-000004: written to the outbox" in done.stdout
    invoices = sorted(p.name for p in (billed_warehouse.parent / "outbox" / "stripe").iterdir())
    assert invoices == ["INV-000001", "INV-000002", "INV-000003", "INV-000004"]


def test_quickbooks_sync_books_each_invoice_once(billed_warehouse: Path) -> None:
    with QuickBooksTestServer() as qbo:
        variables = {
            "QBO_API_BASE": qbo.base_url,
            "QBO_ACCESS_TOKEN": qbo.access_token,
            "QBO_REALM_ID": qbo.realm_id,
        }
        first = _sync("quickbooks", billed_warehouse, **variables)
        assert first.returncode == 0, first.stderr
        booked = {i["DocNumber"]: Decimal(str(i["TotalAmt"])) for i in qbo.company.all("Invoice")}
        assert booked == {
            "INV-000001": Decimal("53.06"),
            "INV-000002": Decimal("26.13"),
            "INV-000003": Decimal("416.24"),
            "INV-000004": Decimal("49.00"),
        }
        writes = len(qbo.requests)
        again = _sync("quickbooks", billed_warehouse, **variables)
        assert again.returncode == 0, again.stderr
        assert len(qbo.company.all("Invoice")) == 4
        assert "INV-000003: already in QuickBooks" in again.stdout
        assert qbo.requests[writes:] == []
        assert qbo.access_token not in billed_warehouse.read_bytes().decode("latin-1")


def test_an_invoice_that_cannot_sync_fails_the_command_in_one_line(billed_warehouse: Path) -> None:
    with QuickBooksTestServer() as qbo:
        qbo.fail_next(400, on="Invoice", times=1_000)
        done = _sync(
            "quickbooks",
            billed_warehouse,
            QBO_API_BASE=qbo.base_url,
            QBO_ACCESS_TOKEN=qbo.access_token,
            QBO_REALM_ID=qbo.realm_id,
        )
    assert done.returncode == 1
    message = done.stderr.strip()
    assert "\n" not in message
    expected = "billing sync: 4 invoice(s) could not be synced; first: quickbooks: INV-"
    assert message.startswith(expected)


def test_stripe_sync_finalizes_and_charges_each_invoice_once(billed_warehouse: Path) -> None:
    with FakeStripe() as stripe_server:
        variables = {
            "STRIPE_API_KEY": stripe_server.api_key,
            "STRIPE_API_BASE": stripe_server.api_base,
        }
        first = _sync("stripe", billed_warehouse, **variables)
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
        again = _sync("stripe", billed_warehouse, **variables)
        assert again.returncode == 0, again.stderr
        assert len(stripe_server.applied_writes()) == writes
        assert stripe_server.api_key not in billed_warehouse.read_bytes().decode("latin-1")


@pytest.fixture(scope="module")
def september_billed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny company with only September billed (as of Oct 5): INV-000001 acme 53.06
    and INV-000002 beta 26.13, both due Oct 9."""
    from orchestration.runs import run_billing_period

    root = tmp_path_factory.mktemp("september")
    data_dir = root / "data"
    shutil.copytree(FIXTURES / "tiny_company", data_dir)
    (data_dir / "landing" / "events" / "2026-10-usage.jsonl").unlink()
    deployment = Deployment.beside_database(data_dir, root / "output" / "billing.duckdb")
    run_billing_period(deployment, "2026-09", "2026-10-05T00:00:00Z")
    return deployment.db_path


@pytest.fixture
def september(september_billed: Path, tmp_path: Path) -> Path:
    db = tmp_path / "billing.duckdb"
    shutil.copy(september_billed, db)
    return db


def _query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def _invoice_states(db: Path) -> dict[str, tuple]:
    rows = _query(
        db,
        "select invoice_number, status, amount_paid, amount_credited, amount_due "
        "from main.fct_invoices order by 1",
    )
    return {number: tuple(rest) for number, *rest in rows}


def _settlement_entries(db: Path) -> list[tuple]:
    return _query(
        db,
        "select invoice_number, entry_type, amount, receivable_change from main.fct_revenue_ledger "
        "where entry_type in ('payment', 'payment_failed', 'credit_note') order by 1, 2",
    )


def _reconciliation(db: Path) -> list[tuple]:
    return _query(db, "select check_name, ok from main.rpt_reconciliation order by 1")


def _credit_note(db: Path, *args: str) -> CommandResult:
    return run_billing("credit-note", "--db", str(db), *args)


def _stripe_variables(server: FakeStripe) -> dict[str, str]:
    return {"STRIPE_API_KEY": server.api_key, "STRIPE_API_BASE": server.api_base}


BEFORE_DUE, AFTER_DUE = "2026-10-06T00:00:00Z", "2026-10-10T00:00:00Z"


def test_stripe_payment_outcomes_reach_invoice_status_and_ledger(september: Path) -> None:
    with FakeStripe() as stripe_server:
        stripe_server.cards.decline("beta")
        variables = _stripe_variables(stripe_server)
        early = _sync("stripe", september, BEFORE_DUE, **variables)
        assert early.returncode == 0, early.stderr
        assert "INV-000002: " in early.stdout and "payment due 2026-10-09" in early.stdout
        assert _invoice_states(september) == {
            "INV-000001": ("sent", Decimal("0.00"), Decimal("0.00"), Decimal("53.06")),
            "INV-000002": ("sent", Decimal("0.00"), Decimal("0.00"), Decimal("26.13")),
        }

        due = _sync("stripe", september, AFTER_DUE, **variables)

        assert due.returncode == 0, due.stderr
        assert "  INV-000001: paid\n  INV-000002: payment_failed: card_declined\n" in due.stdout
        assert _invoice_states(september) == {
            "INV-000001": ("paid", Decimal("53.06"), Decimal("0.00"), Decimal("0.00")),
            "INV-000002": ("payment_failed", Decimal("0.00"), Decimal("0.00"), Decimal("26.13")),
        }
        settlements = [
            ("INV-000001", "payment", Decimal("-53.06"), Decimal("-53.06")),
            ("INV-000002", "payment_failed", Decimal("-26.13"), Decimal("0.00")),
        ]
        assert _settlement_entries(september) == settlements
        assert all(ok for _, ok in _reconciliation(september))

        ledger_rows = _query(september, "select count(*) from main.fct_revenue_ledger")
        writes = len(stripe_server.applied_writes())
        charges = len(stripe_server.account.charges)
        again = _sync("stripe", september, AFTER_DUE, **variables)
        assert again.returncode == 0, again.stderr
        assert "INV-000002: still open after payment_failed, not charged again" in again.stdout
        assert len(stripe_server.applied_writes()) == writes
        assert len(stripe_server.account.charges) == charges == 2
        assert _query(september, "select count(*) from main.fct_revenue_ledger") == ledger_rows
        assert _settlement_entries(september) == settlements


def test_credit_notes_reach_stripe_and_a_voided_invoice_is_never_charged(september: Path) -> None:
    with FakeStripe() as stripe_server:
        variables = _stripe_variables(stripe_server)
        early = _sync("stripe", september, BEFORE_DUE, **variables)
        assert early.returncode == 0, early.stderr
        partial = _credit_note(
            september, "--invoice", "INV-000001", "--amount", "3.06", "--reason", "Outage",
            "--as-of", "2026-10-07T00:00:00Z",
        )  # fmt: skip
        assert partial.returncode == 0, partial.stderr
        void = _credit_note(
            september, "--invoice", "INV-000002", "--reason", "Signed in error",
            "--as-of", "2026-10-07T00:00:00Z",
        )  # fmt: skip
        assert void.returncode == 0, void.stderr

        due = _sync("stripe", september, AFTER_DUE, **variables)

        assert due.returncode == 0, due.stderr
        invoices = {
            i["metadata"]["invoice_number"]: i for i in stripe_server.account.invoices.values()
        }
        credited, voided = invoices["INV-000001"], invoices["INV-000002"]
        (stripe_note,) = stripe_server.account.credit_notes.values()
        assert (
            f"  INV-000001: credit note {stripe_note['id']} for CN-000001 (3.06 USD), paid\n"
            f"  INV-000002: voided {voided['id']} (credit note CN-000002), never charged\n"
        ) in due.stdout
        assert (stripe_note["amount"], stripe_note["pre_payment_amount"]) == (306, 306)
        assert (credited["status"], credited["amount_paid"]) == ("paid", 5000)
        assert (voided["status"], voided["amount_paid"]) == ("void", 0)
        assert [c["amount"] for c in stripe_server.account.charges.values()] == [5000]
        assert _invoice_states(september) == {
            "INV-000001": ("paid", Decimal("50.00"), Decimal("3.06"), Decimal("0.00")),
            "INV-000002": ("void", Decimal("0.00"), Decimal("26.13"), Decimal("0.00")),
        }
        assert _settlement_entries(september) == [
            ("INV-000001", "credit_note", Decimal("-3.06"), Decimal("-3.06")),
            ("INV-000001", "payment", Decimal("-50.00"), Decimal("-50.00")),
            ("INV-000002", "credit_note", Decimal("-26.13"), Decimal("-26.13")),
        ]
        assert all(ok for _, ok in _reconciliation(september))

        writes = len(stripe_server.applied_writes())
        again = _sync("stripe", september, AFTER_DUE, **variables)
        assert again.returncode == 0, again.stderr
        assert f"INV-000002: nothing to do, {voided['id']} is void" in again.stdout
        assert len(stripe_server.applied_writes()) == writes
        assert len(stripe_server.account.credit_notes) == 1
