"""The analyst marts (dbt_project/models/marts/analytics) and the usage-health check.

Revenue marts are checked against the tiny company's hand-computed invoices
(fixtures/tiny_company/EXPECTED.md); gap detection against a company whose
usage stops and drops on known days.
"""

import json
import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckSeverity, materialize

from orchestration.definitions import ALL_ASSETS, BILL_PERIOD_ASSETS, billing_resources
from orchestration.runs import QUIET_CONSOLE, Deployment
from tests.dbt_cli import dbt_failures, run_dbt

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _rows(db_path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db_path), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def test_mrr_is_the_invoice_charges_after_discounts(billed: Deployment) -> None:
    rows = _rows(
        billed.db_path,
        "select customer_id, cast(period_start as varchar), plan_id, mrr, arr "
        "from main.fct_customer_mrr order by 1, 2",
    )
    assert rows == [
        ("acme", "2026-09-01", "starter", Decimal("49.02"), Decimal("588.24")),
        ("acme", "2026-10-01", "growth", Decimal("384.52"), Decimal("4614.24")),
        ("beta", "2026-09-01", "starter", Decimal("26.13"), Decimal("313.56")),
        ("beta", "2026-10-01", "starter", Decimal("49.00"), Decimal("588.00")),
    ]
    by_plan = _rows(
        billed.db_path,
        "select plan_id, segment, customers, mrr from main.rpt_mrr_by_plan_segment "
        "where period_start = date '2026-10-01' order by 1, 2",
    )
    assert by_plan == [
        ("growth", "smb", 1, Decimal("384.52")),
        ("starter", "startup", 1, Decimal("49.00")),
    ]


def test_net_revenue_retention_of_october(billed: Deployment) -> None:
    (row,) = _rows(
        billed.db_path,
        "select starting_mrr, expansion_mrr, churned_mrr, retained_mrr, "
        "net_revenue_retention_percent, gross_revenue_retention_percent "
        "from main.rpt_net_revenue_retention where period_start = date '2026-10-01'",
    )
    # 49.02 + 26.13 = 75.15 in September; the same customers pay 384.52 + 49.00 in October.
    assert row == (
        Decimal("75.15"),
        Decimal("358.37"),
        Decimal("0.00"),
        Decimal("433.52"),
        Decimal("576.87"),
        Decimal("100.00"),
    )
    (first,) = _rows(
        billed.db_path,
        "select net_revenue_retention_percent from main.rpt_net_revenue_retention "
        "where period_start = date '2026-09-01'",
    )
    assert first == (None,)


def test_revenue_per_meter_and_top_customers(billed: Deployment) -> None:
    meters = _rows(
        billed.db_path,
        "select meter_id, quantity, revenue, share_of_usage_revenue_percent "
        "from main.rpt_revenue_by_meter where period_start = date '2026-10-01' order by 1",
    )
    # api_calls: 0.30 (Starter) + 0.15 (Growth) + 0 (beta); storage 3.13; 0.45 / 3.58 = 12.57 %
    assert [(m, q.normalize(), r, s) for m, q, r, s in meters] == [
        ("api_calls", Decimal("400"), Decimal("0.45"), Decimal("12.57")),
        ("storage_gb", Decimal("12.5"), Decimal("3.13"), Decimal("87.43")),
    ]
    top = _rows(
        billed.db_path,
        "select revenue_rank, customer_id, total_revenue, latest_plan_id "
        "from main.rpt_top_customers order by 1",
    )
    assert top == [
        (1, "acme", Decimal("433.54"), "growth"),
        (2, "beta", Decimal("75.13"), "starter"),
    ]


def test_usage_per_meter_per_day(billed: Deployment) -> None:
    rows = _rows(
        billed.db_path,
        "select meter_id, cast(usage_date as varchar), event_count, daily_quantity "
        "from main.fct_usage_daily where customer_id = 'acme' and period_start = '2026-10-01' "
        "and usage_date between '2026-10-20' and '2026-10-21' order by 1, 2",
    )
    # storage_gb is a max meter: each day's peak snapshot (12.5 GB, then 9 GB).
    storage = [
        (day, events, q.normalize()) for meter, day, events, q in rows if meter == "storage_gb"
    ]
    assert storage == [("2026-10-20", 1, Decimal("12.5")), ("2026-10-21", 1, Decimal("9"))]
    (total,) = _rows(
        billed.db_path,
        "select sum(event_count) from main.fct_usage_daily "
        "where meter_id = 'api_calls' and period_start = '2026-10-01'",
    )
    assert total == (400,)


def _dbt(db_path: Path, target: Path, *args: str) -> None:
    done = run_dbt(db_path, target, *args)
    assert done.success, dbt_failures(done)


def test_month_end_forecast_runs_the_rate_and_docs_generate(
    billed: Deployment, tmp_path: Path
) -> None:
    # The file keeps its name: DuckDB names the catalog the views refer to after it.
    db = tmp_path / "copy" / billed.db_path.name
    db.parent.mkdir()
    shutil.copy(billed.db_path, db)
    mid_october = {"period": "2026-10", "as_of": "2026-10-16 00:00:00"}
    _dbt(
        db,
        tmp_path / "target",
        "run",
        "--select",
        "rpt_usage_forecast",
        "--vars",
        json.dumps(mid_october),
    )
    rows = _rows(
        db,
        "select meter_id, forecast_method, elapsed_seconds, usage_to_date, forecast_quantity, "
        "rated_amount_to_date, projected_amount from main.rpt_usage_forecast "
        "where customer_id = 'acme' order by 1",
    )
    # 15 of 31 days elapsed: 400 calls to date run at 400 / 15 × 31 = 826.67 by month end.
    api, storage = rows
    assert api[:3] == ("api_calls", "run_rate", 15 * 86400)
    assert api[3] == Decimal("400")
    assert round(api[4], 2) == Decimal("826.67")
    assert api[5:] == (Decimal("0.45"), Decimal("0.93"))
    assert storage[1] == "to_date" and storage[3] == storage[4] == Decimal("12.5")

    _dbt(db, tmp_path / "target", "docs", "generate")
    catalog = json.loads((tmp_path / "target" / "catalog.json").read_text())
    assert "model.billing.rpt_usage_forecast" in catalog["nodes"]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    for name in ("fct_customer_mrr", "rpt_usage_gaps", "rpt_usage_forecast"):
        columns = manifest["nodes"][f"model.billing.{name}"]["columns"]
        assert columns and all(c["description"] for c in columns.values()), name


# --- gap detection -----------------------------------------------------------------


def _event(event_id: str, customer: str, event_type: str, at: datetime, **props) -> str:
    record = {
        "event_id": event_id,
        "customer_id": customer,
        "event_type": event_type,
        "timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if props:
        record["properties"] = props
    return json.dumps(record)


def _write_gappy_usage(events_dir: Path) -> None:
    """acme: 12 API calls a day, none on Oct 10, one on Oct 20.
    beta: one storage snapshot a day from Sep 15, none on Oct 25.
    The October file also carries 5 rows of an unknown customer (quarantined)."""
    september, october = [], []
    day = datetime(2026, 9, 1, tzinfo=UTC)
    while day < datetime(2026, 11, 1, tzinfo=UTC):
        lines = september if day.month == 9 else october
        calls = {datetime(2026, 10, 10, tzinfo=UTC): 0, datetime(2026, 10, 20, tzinfo=UTC): 1}
        for i in range(calls.get(day, 12)):
            lines.append(_event(f"a-{day:%m%d}-{i}", "acme", "api_call", day + timedelta(hours=i)))
        if day >= datetime(2026, 9, 15, tzinfo=UTC) and day != datetime(2026, 10, 25, tzinfo=UTC):
            lines.append(_event(f"s-{day:%m%d}", "beta", "storage_snapshot", day, gb=2))
        day += timedelta(days=1)
    october += [
        _event(f"x-{i}", "nobody", "api_call", datetime(2026, 10, 3, tzinfo=UTC)) for i in range(5)
    ]
    (events_dir / "2026-09-usage.jsonl").write_text("\n".join(september) + "\n")
    (events_dir / "2026-10-usage.jsonl").write_text("\n".join(october) + "\n")


@pytest.fixture(scope="module")
def gappy(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("gappy")
    data_dir = root / "data"
    shutil.copytree(FIXTURES / "tiny_company", data_dir)
    events_dir = data_dir / "landing" / "events"
    for old in events_dir.iterdir():
        old.unlink()
    _write_gappy_usage(events_dir)
    october_file = events_dir / "2026-10-usage.jsonl"
    not_yet_landed = october_file.rename(root / october_file.name)
    deployment = Deployment.beside_database(data_dir, root / "output" / "billing.duckdb")
    results = {}
    for period, as_of in (("2026-09", "2026-10-05T00:00:00Z"), ("2026-10", "2026-11-05T00:00:00Z")):
        if period == "2026-10":
            not_yet_landed.rename(october_file)
        results[period] = materialize(
            ALL_ASSETS,
            selection=BILL_PERIOD_ASSETS,
            partition_key=f"{period}-01",
            resources=billing_resources(
                data_dir=str(data_dir),
                db_path=str(deployment.db_path),
                output_dir=str(deployment.output_dir),
                as_of=as_of,
            ),
            run_config=QUIET_CONSOLE,
        )
    return deployment, results


def test_gaps_are_the_quiet_days(gappy) -> None:
    deployment, _ = gappy
    gaps = _rows(
        deployment.db_path,
        "select customer_id, meter_id, cast(usage_date as varchar), gap_kind, event_count, "
        "trailing_events from main.rpt_usage_gaps order by usage_date",
    )
    assert gaps == [
        ("acme", "api_calls", "2026-10-10", "zero_events", 0, 84),
        ("acme", "api_calls", "2026-10-20", "drop", 1, 84),
        ("beta", "storage_gb", "2026-10-25", "zero_events", 0, 7),
    ]


def test_file_quality_flags_the_file_with_quarantined_rows(gappy) -> None:
    deployment, _ = gappy
    files = _rows(
        deployment.db_path,
        "select file_name, row_count, quarantined_count, quarantine_rate_percent, "
        "quarantine_reasons, is_flagged from main.rpt_source_file_quality order by 1",
    )
    september, october = files
    assert september[-1] is False
    # (31 × 12 − 12 − 11) calls + 30 snapshots + 5 bad rows = 384; 5 / 384 = 1.30 % > 1 %
    assert october[1:] == (384, 5, Decimal("1.30"), "unknown_customer 5", True)


def test_usage_check_warns_without_blocking(gappy) -> None:
    _, results = gappy
    for period, expected_gaps in (("2026-09", 0), ("2026-10", 3)):
        result = results[period]
        assert result.success
        (evaluation,) = [
            e for e in result.get_asset_check_evaluations() if e.check_name == "usage_is_complete"
        ]
        assert evaluation.severity == AssetCheckSeverity.WARN
        assert evaluation.metadata["gaps"].value == expected_gaps
        assert evaluation.passed is (period == "2026-09")
    october = next(
        e
        for e in results["2026-10"].get_asset_check_evaluations()
        if e.check_name == "usage_is_complete"
    )
    assert "2026-10-10 acme (Acme Analytics) api_calls: zero_events" in (
        october.metadata["first_gaps"].value
    )
    assert october.metadata["flagged_files"].value == 1
