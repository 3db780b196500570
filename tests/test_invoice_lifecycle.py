"""The invoice lifecycle end to end: late usage, credit notes, ledger, revenue.

One small company billed as it happens, September to November 2026 (amounts
computed by hand below). October is billed the way production bills it: the
`bill_period_after_invoice_grace` schedule is evaluated on the day its grace
period ends and its run request is executed.

Catalog: growth = 100.00 base + API calls graduated (first 100 free, then
0.01); bulk = no base fee + rows at volume prices (up to 100 at 0.10, all at
0.05 above 100).

September (finalized as of Oct 5):
  INV-000001 acme  growth, 90 calls (free)            100.00 + tax 10 %  = 110.00
  INV-000002 vol   bulk, 90 rows × 0.10                 9.00             =   9.00
Late September events land in October: acme +30 calls, vol +20 rows.
  acme re-rated: 120 calls = 20 × 0.01 = 0.20 → adjustment +0.20
  vol re-rated: 110 rows × 0.05 = 5.50 vs 9.00 → adjustment −3.50
October (through the schedule, as of Nov 5):
  INV-000003 acme  100.00 + 0 (50 calls) + 0.20 adjustment = 100.20, tax 10.02 → 110.22
  INV-000004 newco started Oct 15: 100 × 17/31 = 54.84, 150 calls = 0.50 → 55.34
  INV-000005 vol   0 rows = 0.00, adjustment −3.50, 3.50 carried forward → 0.00
November (as of Dec 5):
  INV-000006 acme  110.00; INV-000007 newco 100.00 (voided October's by then)
  INV-000008 vol   40 rows × 0.10 = 4.00 − carried-forward credit 3.50 = 0.50
"""

import json
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, Definitions, build_schedule_context, build_sensor_context

from orchestration.definitions import (
    ALL_ASSETS,
    bill_period_job,
    billing_resources,
    load_usage_job,
)
from orchestration.runs import Deployment, run_billing_period
from orchestration.schedules import bill_period_after_invoice_grace, new_landing_files
from tests.billing_cli import CommandResult, run_billing

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "lifecycle_company"


def _calls(prefix: str, customer: str, count: int, day: str) -> list[dict]:
    return [
        {
            "event_id": f"{prefix}-{i:03d}",
            "customer_id": customer,
            "event_type": "api_call",
            "timestamp": f"{day}T{i % 24:02d}:00:00Z",
        }
        for i in range(count)
    ]


def _rows(event_id: str, quantity: int, day: str) -> dict:
    return {
        "event_id": event_id,
        "customer_id": "vol",
        "event_type": "rows_synced",
        "timestamp": f"{day}T12:00:00Z",
        "quantity": quantity,
    }


def _land(data_dir: Path, name: str, events: list[dict]) -> None:
    landing = data_dir / "landing" / "events"
    landing.mkdir(parents=True, exist_ok=True)
    (landing / name).write_text("".join(json.dumps(e) + "\n" for e in events))


def _query(db_path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db_path), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def _bill_october_through_the_schedule(deployment: Deployment) -> str:
    """Evaluate the schedule on Nov 2 (in grace) and Nov 5, and execute the run it requests."""
    resources = billing_resources(
        data_dir=str(deployment.data_dir),
        db_path=str(deployment.db_path),
        output_dir=str(deployment.output_dir),
        as_of="2026-11-05T06:00:00Z",
    )
    defs = Definitions(
        assets=ALL_ASSETS,
        jobs=[bill_period_job],
        schedules=[bill_period_after_invoice_grace(bill_period_job)],
        resources=resources,
    )
    schedule = defs.get_schedule_def("bill_period_after_invoice_grace")

    def tick(moment: datetime):
        context = build_schedule_context(
            scheduled_execution_time=moment,
            repository_def=defs.get_repository_def(),
            resources={"warehouse": resources["warehouse"]},
        )
        return schedule.evaluate_tick(context)

    assert tick(datetime(2026, 11, 2, 6, tzinfo=UTC)).run_requests == []
    (request,) = tick(datetime(2026, 11, 5, 6, tzinfo=UTC)).run_requests
    result = defs.resolve_job_def(request.job_name or "bill_period").execute_in_process(
        partition_key=request.partition_key, instance=DagsterInstance.ephemeral()
    )
    assert result.success
    return request.partition_key


def _month_in_progress() -> str:
    return datetime.now(UTC).date().replace(day=1).isoformat()


def _credit_note(deployment: Deployment, *args: str) -> CommandResult:
    return run_billing("credit-note", "--db", str(deployment.db_path), *args)


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("lifecycle")
    data_dir = root / "data"
    shutil.copytree(FIXTURE, data_dir)
    deployment = Deployment.beside_database(data_dir, root / "output" / "billing.duckdb")

    _land(
        data_dir,
        "2026-09.jsonl",
        [*_calls("sep", "acme", 90, "2026-09-10"), _rows("sep-rows", 90, "2026-09-12")],
    )
    run_billing_period(deployment, "2026-09", "2026-10-05T00:00:00Z")
    september = _query(deployment.db_path, "select * from main.fct_invoice_lines order by 1")

    _land(
        data_dir,
        "2026-10-a-late-september.jsonl",
        [*_calls("late", "acme", 30, "2026-09-28"), _rows("late-rows", 20, "2026-09-29")],
    )
    _land(
        data_dir,
        "2026-10-b.jsonl",
        [*_calls("oct", "acme", 50, "2026-10-10"), *_calls("new", "newco", 150, "2026-10-20")],
    )
    october_key = _bill_october_through_the_schedule(deployment)

    partial = _credit_note(
        deployment,
        "--invoice",
        "INV-000003",
        "--amount",
        "10.00",
        "--reason",
        "Goodwill: outage on Oct 3",
        "--as-of",
        "2026-11-20T00:00:00Z",
    )
    void = _credit_note(
        deployment,
        "--invoice",
        "INV-000004",
        "--reason",
        "Signed in error",
        "--as-of",
        "2026-11-21T00:00:00Z",
    )

    _land(data_dir, "2026-11.jsonl", [_rows("nov-rows", 40, "2026-11-03")])
    run_billing_period(deployment, "2026-11", "2026-12-05T00:00:00Z")
    return {
        "deployment": deployment,
        "db": deployment.db_path,
        "september_lines": september,
        "october_key": october_key,
        "partial": partial,
        "void": void,
    }


def test_the_schedule_requests_october_after_its_grace_period(lifecycle: dict) -> None:
    assert lifecycle["october_key"] == "2026-10-01"
    assert _query(
        lifecycle["db"],
        "select count(*) from main.fct_invoice_register "
        "where period_start = date '2026-10-01' and status = 'finalized'",
    ) == [(3,)]


def test_late_usage_is_billed_as_an_adjustment_across_the_tier_boundary(lifecycle: dict) -> None:
    db = lifecycle["db"]
    # September's finalized invoices did not change; its usage was re-rated.
    september_now = _query(
        db, "select * from main.fct_invoice_lines where period_start = date '2026-09-01' order by 1"
    )
    assert september_now == lifecycle["september_lines"]
    assert _query(
        db,
        "select customer_id, invoiced_subtotal, rerated_subtotal from "
        "main.fct_late_usage_restatements where period_start = date '2026-09-01' order by 1",
    ) == [("acme", Decimal("100.00"), Decimal("100.20")), ("vol", Decimal("9.00"), Decimal("5.50"))]

    adjustments = _query(
        db,
        "select l.invoice_id, l.adjusted_invoice_id, l.amount, l.description "
        "from main.fct_invoice_lines l where l.line_type = 'adjustment' order by 1, 3 desc",
    )
    assert [row[:3] for row in adjustments] == [
        ("acme-2026-10", "acme-2026-09", Decimal("0.20")),
        ("vol-2026-10", None, Decimal("3.50")),
        ("vol-2026-10", "vol-2026-09", Decimal("-3.50")),
    ]
    assert adjustments[0][3].startswith("Late usage for Sep 2026 (invoice acme-2026-09)")
    assert "carried forward as credit CF-vol-2026-10" in adjustments[1][3]

    totals = _query(
        db,
        "select invoice_number, customer_id, subtotal, tax_total, total "
        "from main.fct_invoice_register order by invoice_sequence",
    )
    assert totals == [
        ("INV-000001", "acme", Decimal("100.00"), Decimal("10.00"), Decimal("110.00")),
        ("INV-000002", "vol", Decimal("9.00"), Decimal("0.00"), Decimal("9.00")),
        ("INV-000003", "acme", Decimal("100.20"), Decimal("10.02"), Decimal("110.22")),
        ("INV-000004", "newco", Decimal("55.34"), Decimal("0.00"), Decimal("55.34")),
        ("INV-000005", "vol", Decimal("0.00"), Decimal("0.00"), Decimal("0.00")),
        ("INV-000006", "acme", Decimal("100.00"), Decimal("10.00"), Decimal("110.00")),
        ("INV-000007", "newco", Decimal("100.00"), Decimal("0.00"), Decimal("100.00")),
        ("INV-000008", "vol", Decimal("4.00"), Decimal("0.00"), Decimal("0.50")),
    ]


def test_an_adjustment_is_billed_once_and_its_excess_credit_is_used_next_period(
    lifecycle: dict,
) -> None:
    db = lifecycle["db"]
    assert _query(
        db,
        "select count(*) from main.fct_invoice_lines "
        "where period_start = date '2026-11-01' and line_type = 'adjustment'",
    ) == [(0,)]
    assert _query(
        db,
        "select grant_id, grant_kind, opening, applied, closing from main.fct_credit_balances "
        "where customer_id = 'vol' order by period_start",
    ) == [("CF-vol-2026-10", "carried_forward", Decimal("3.50"), Decimal("3.50"), Decimal("0.00"))]


def test_credit_notes_void_or_partially_credit_an_invoice(lifecycle: dict) -> None:
    partial, void = lifecycle["partial"], lifecycle["void"]
    assert partial.returncode == 0, partial.stderr
    assert partial.stdout.startswith("CN-000001: 10.00 USD on INV-000003 (acme) credits part")
    assert void.returncode == 0, void.stderr
    assert void.stdout.startswith("CN-000002: 55.34 USD on INV-000004 (newco) voids it")
    assert _query(
        lifecycle["db"],
        "select invoice_number, status, amount_credited, amount_due from main.fct_invoices "
        "where invoice_number in ('INV-000003', 'INV-000004') order by 1",
    ) == [
        ("INV-000003", "finalized", Decimal("10.00"), Decimal("100.22")),
        ("INV-000004", "void", Decimal("55.34"), Decimal("0.00")),
    ]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--invoice", "INV-000004"], "the invoice is void"),
        (["--invoice", "INV-000099"], "no issued invoice numbered 'INV-000099'"),
        (["--invoice", "INV-000003", "--amount", "100.23"], "at most the 100.22 USD still due"),
        (["--invoice", "INV-000003", "--amount", "1.001"], "more decimals than USD allows"),
    ],
)
def test_a_credit_note_that_cannot_be_issued_names_the_invoice_and_changes_nothing(
    lifecycle: dict, args: list[str], error: str
) -> None:
    before = _query(lifecycle["db"], "select count(*) from raw.credit_notes")
    refused = run_billing("credit-note", "--db", str(lifecycle["db"]), *args, "--reason", "test")
    assert refused.returncode == 1
    assert error in refused.stderr
    assert _query(lifecycle["db"], "select count(*) from raw.credit_notes") == before


def test_the_ledger_reconciles_to_zero_difference(lifecycle: dict) -> None:
    db = lifecycle["db"]
    assert _query(
        db, "select count(*), count(*) filter (where ok) from main.rpt_reconciliation"
    ) == [(21, 21)]
    per_customer = _query(
        db,
        """
        select invoices.customer_id, invoices.issued - coalesce(notes.credited, 0),
               ledger.receivable
        from (select customer_id, sum(total) as issued from main.fct_invoice_register
              where status = 'finalized' group by 1) invoices
        left join (select customer_id, sum(amount) as credited from raw.credit_notes
                   group by 1) notes
            using (customer_id)
        join (select customer_id, sum(receivable_change) as receivable from main.fct_revenue_ledger
              group by 1) ledger using (customer_id)
        order by 1
        """,
    )
    assert per_customer == [
        ("acme", Decimal("320.22"), Decimal("320.22")),
        ("newco", Decimal("100.00"), Decimal("100.00")),
        ("vol", Decimal("9.50"), Decimal("9.50")),
    ]
    assert _query(
        db,
        "select entry_type, amount, credit_balance_change from main.fct_revenue_ledger "
        "where grant_id = 'CF-vol-2026-10' order by entry_type",
    ) == [
        ("credit_applied", Decimal("-3.50"), Decimal("-3.50")),
        ("credit_granted", Decimal("3.50"), Decimal("3.50")),
    ]


def test_ledger_entries_are_appended_once_and_never_rewritten(lifecycle: dict) -> None:
    db = lifecycle["db"]
    (count, distinct) = _query(
        db, "select count(*), count(distinct entry_id) from main.fct_revenue_ledger"
    )[0]
    assert count == distinct
    recorded = _query(
        db,
        "select entry_id, recorded_at from main.fct_revenue_ledger "
        "where period_start = date '2026-09-01' and entry_type = 'charge' order by 1",
    )
    assert {moment for _, moment in recorded} == {datetime(2026, 10, 5)}


def test_revenue_recognition_for_a_mid_month_start(lifecycle: dict) -> None:
    rows = _query(
        lifecycle["db"],
        "select strftime(period_start, '%Y-%m'), revenue_type, recognized_amount "
        "from main.fct_revenue_recognition where customer_id = 'newco' order by 1, 2",
    )
    assert rows == [
        ("2026-10", "subscription_fees", Decimal("54.84")),
        ("2026-10", "usage", Decimal("0.50")),
        ("2026-11", "credit_notes", Decimal("-55.34")),
        ("2026-11", "subscription_fees", Decimal("100.00")),
        ("2026-11", "usage", Decimal("0.00")),
    ]


def test_late_usage_and_credits_show_in_revenue(lifecycle: dict) -> None:
    rows = _query(
        lifecycle["db"],
        "select customer_id, strftime(period_start, '%Y-%m'), revenue_type, recognized_amount, "
        "deferred_released, deferred_balance from main.fct_revenue_recognition "
        "where revenue_type in ('late_usage_adjustments', 'prepaid_credits', 'credit_notes') "
        "order by 1, 2, 3",
    )
    assert rows == [
        ("acme", "2026-10", "late_usage_adjustments", Decimal("0.20"), Decimal("0"), Decimal("0")),
        # 10.00 credited on a 110.22 invoice with 10.02 tax: 0.91 of it is tax.
        ("acme", "2026-11", "credit_notes", Decimal("-9.09"), Decimal("0"), Decimal("0")),
        ("newco", "2026-11", "credit_notes", Decimal("-55.34"), Decimal("0"), Decimal("0")),
        ("vol", "2026-10", "late_usage_adjustments", Decimal("-3.50"), Decimal("0"), Decimal("0")),
        ("vol", "2026-11", "prepaid_credits", Decimal("0"), Decimal("3.50"), Decimal("0")),
    ]


def test_ui_definitions_load_with_the_schedules_and_sensor() -> None:
    from orchestration.definitions import defs

    assert {s.name for s in defs.schedules} == {
        "bill_period_after_invoice_grace",
        "collect_payments_after_payment_grace",
    }
    assert {s.name for s in defs.sensors} == {"new_landing_files"}


def test_the_landing_sensor_asks_for_a_load_when_files_change(tmp_path: Path) -> None:
    resources = billing_resources(
        data_dir=str(tmp_path), db_path=str(tmp_path / "w.duckdb"), output_dir=str(tmp_path)
    )
    warehouse = resources["warehouse"]
    defs = Definitions(
        assets=ALL_ASSETS,
        jobs=[load_usage_job],
        sensors=[new_landing_files(load_usage_job)],
        resources=resources,
    )
    sensor = defs.get_sensor_def("new_landing_files")

    def tick(cursor: str | None):
        context = build_sensor_context(
            cursor=cursor,
            repository_def=defs.get_repository_def(),
            resources={"warehouse": warehouse},
        )
        return sensor.evaluate_tick(context)

    _land(tmp_path, "a.jsonl", _calls("a", "acme", 1, "2026-11-01"))
    first = tick(None)
    assert [r.partition_key for r in first.run_requests] == [_month_in_progress()]
    assert tick(first.cursor).run_requests == []
    _land(tmp_path, "b.jsonl", _calls("b", "acme", 1, "2026-11-01"))
    second = tick(first.cursor)
    assert len(second.run_requests) == 1
    assert second.run_requests[0].run_key != first.run_requests[0].run_key
