"""`billing run` end to end on the tiny company: real loaders, dbt, Dagster and PDFs.

The expected amounts are computed by hand in fixtures/tiny_company/EXPECTED.md.
"""

import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance
from dagster._core.instance.ref import InstanceRef

from orchestration.assets.rating import INVOICE_REGISTER
from orchestration.resources import WAREHOUSE_STORAGE_VERSION, BillingWarehouse
from orchestration.runs import Deployment, RunFailed, run_billing_period

OCTOBER_AS_OF = "2026-11-05T00:00:00Z"
BILLING = Path(sys.executable).parent / "billing"


def _query(db_path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db_path), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def _snapshot(deployment: Deployment) -> dict[str, object]:
    pdfs = sorted((deployment.output_dir / "invoices").glob("*.pdf"))
    return {
        "invoices": _query(
            deployment.db_path, "select * from main.fct_invoices order by invoice_id"
        ),
        "lines": _query(
            deployment.db_path, "select * from main.fct_invoice_lines order by invoice_line_id"
        ),
        "pdfs": {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in pdfs},
    }


def test_invoices_match_the_hand_computation(billed: Deployment) -> None:
    invoices = _query(
        billed.db_path,
        "select customer_id, strftime(period_start, '%Y-%m'), invoice_number, status, "
        "subtotal, tax_total, total from main.fct_invoices order by invoice_sequence",
    )
    assert invoices == [
        (
            "acme",
            "2026-09",
            "INV-000001",
            "finalized",
            Decimal("49.02"),
            Decimal("4.04"),
            Decimal("53.06"),
        ),
        (
            "beta",
            "2026-09",
            "INV-000002",
            "finalized",
            Decimal("26.13"),
            Decimal("0.00"),
            Decimal("26.13"),
        ),
        (
            "acme",
            "2026-10",
            "INV-000003",
            "finalized",
            Decimal("384.52"),
            Decimal("31.72"),
            Decimal("416.24"),
        ),
        (
            "beta",
            "2026-10",
            "INV-000004",
            "finalized",
            Decimal("49.00"),
            Decimal("0.00"),
            Decimal("49.00"),
        ),
    ]


def test_october_lines_follow_the_upgrade(billed: Deployment) -> None:
    lines = _query(
        billed.db_path,
        "select line_type, meter_id, amount from main.fct_invoice_lines "
        "where invoice_id = 'acme-2026-10' order by line_number",
    )
    assert lines == [
        ("base_fee", None, Decimal("15.81")),
        ("usage", "api_calls", Decimal("0.30")),
        ("base_fee", None, Decimal("338.03")),
        ("seat_fee", None, Decimal("27.10")),
        ("usage", "api_calls", Decimal("0.15")),
        ("usage", "storage_gb", Decimal("3.13")),
        ("tax", None, Decimal("31.72")),
    ]
    descriptions = _query(
        billed.db_path,
        "select description from main.fct_invoice_lines where invoice_id = 'acme-2026-10' "
        "and line_type in ('base_fee', 'usage') and meter_id is distinct from 'storage_gb' "
        "order by line_number",
    )
    assert descriptions[2] == ("Growth plan base fee, Oct 11–Oct 31 (21/31 days)",)
    assert "first 100: 100 × $0; over 100: 150 × $0.001" in descriptions[3][0]


def test_every_row_is_loaded_duplicated_or_quarantined(billed: Deployment) -> None:
    files = _query(
        billed.db_path,
        "select file_name, row_count, loaded_count, duplicate_count, quarantined_count "
        "from raw.landed_files order by file_name",
    )
    assert files == [("2026-09-usage.jsonl", 10, 10, 0, 0), ("2026-10-usage.jsonl", 405, 402, 1, 2)]
    reasons = _query(
        billed.db_path,
        "select reason, source_line from main.quarantined_events order by source_line",
    )
    assert reasons == [("malformed_row", 404), ("unknown_customer", 405)]
    billed_events = _query(billed.db_path, "select count(*) from main.fct_usage_events")
    assert billed_events == [(412,)]


def test_a_new_warehouse_is_written_in_duckdb_1_3_storage(billed: Deployment) -> None:
    assert _query(billed.db_path, "select tags from duckdb_databases() where not internal") == [
        ({"storage_version": f"{WAREHOUSE_STORAGE_VERSION}+"},)
    ]


def test_a_warehouse_in_older_storage_keeps_its_format(tmp_path: Path) -> None:
    db_path = tmp_path / "billing.duckdb"
    duckdb.connect(str(db_path)).close()
    warehouse = BillingWarehouse(data_dir=str(tmp_path), db_path=str(db_path), output_dir="out")

    with warehouse.connect() as conn:
        conn.execute("create table kept as select 1 as one")

    assert _query(db_path, "select tags from duckdb_databases() where not internal") == [
        ({"storage_version": "v1.0.0+"},)
    ]
    assert _query(db_path, "select one from kept") == [(1,)]


def test_each_finalized_invoice_has_a_pdf(billed: Deployment) -> None:
    pdfs = sorted(p.name for p in (billed.output_dir / "invoices").glob("*.pdf"))
    assert pdfs == ["INV-000001.pdf", "INV-000002.pdf", "INV-000003.pdf", "INV-000004.pdf"]


def test_rerunning_a_finalized_period_changes_nothing(billed: Deployment, tmp_path: Path) -> None:
    """Re-run October after a late October event has landed: the event is loaded
    (never lost), but no finalized invoice, line or PDF changes."""
    shutil.copytree(billed.data_dir, tmp_path / "data")
    shutil.copytree(billed.output_dir, tmp_path / "output")
    copy = Deployment.beside_database(tmp_path / "data", tmp_path / "output" / "billing.duckdb")
    before = _snapshot(copy)
    (copy.data_dir / "landing" / "events" / "2026-11-02-late.jsonl").write_text(
        '{"event_id": "late-1", "customer_id": "beta", "event_type": "api_call", '
        '"timestamp": "2026-10-30T10:00:00Z"}\n'
    )
    run_billing_period(copy, "2026-10", "2026-11-06T00:00:00Z")
    assert _snapshot(copy) == before
    loaded = _query(
        copy.db_path, "select count(*) from main.fct_usage_events where event_id = 'late-1'"
    )
    assert loaded == [(1,)]


def test_invoices_stay_drafts_until_the_grace_period_ends(
    tiny_company: Path, tmp_path: Path
) -> None:
    deployment = Deployment.beside_database(tiny_company, tmp_path / "billing.duckdb")
    run_billing_period(deployment, "2026-10", "2026-11-03T23:59:59Z")
    drafts = _query(
        deployment.db_path, "select invoice_number, status, total from main.fct_invoices order by 1"
    )
    assert [(n, s) for n, s, _ in drafts] == [(None, "draft"), (None, "draft")]
    assert not list((deployment.output_dir / "invoices").glob("*.pdf"))

    run_billing_period(deployment, "2026-10", "2026-11-04T00:00:00Z")
    final = _query(
        deployment.db_path,
        "select invoice_number, status, total from main.fct_invoices order by invoice_number",
    )
    assert final == [
        ("INV-000001", "finalized", Decimal("416.24")),
        ("INV-000002", "finalized", Decimal("49.00")),
    ]


def test_bad_catalog_stops_the_run_before_anything_is_written(
    tiny_company: Path, tmp_path: Path
) -> None:
    catalog = tiny_company / "catalog.yml"
    catalog.write_text(catalog.read_text().replace("{meter: storage_gb,", "{meter: storage_tb,"))
    deployment = Deployment.beside_database(tiny_company, tmp_path / "billing.duckdb")
    with pytest.raises(RunFailed, match=r"catalog\.yml.*storage_tb"):
        run_billing_period(deployment, "2026-10", OCTOBER_AS_OF)
    assert _query(
        deployment.db_path,
        "select count(*) from information_schema.tables where table_schema = 'main'",
    ) == [(0,)]


def test_billing_command_runs_a_period_and_prints_its_invoices(
    tiny_company: Path, tmp_path: Path, dagster_home: Path
) -> None:
    """The installed command, with a Dagster home: its run is in the history the UI shows."""
    db = tmp_path / "out" / "billing.duckdb"
    args = ["run", "--data-dir", str(tiny_company), "--db", str(db), "--period", "2026-10"]
    done = subprocess.run(
        [str(BILLING), *args, "--as-of", OCTOBER_AS_OF],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DAGSTER_HOME": str(dagster_home)},
    )
    assert done.returncode == 0, done.stderr
    assert "INV-000001" in done.stdout and "416.24" in done.stdout
    assert str(db) in done.stdout
    with DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home))) as instance:
        (run,) = instance.get_runs()
        assert run.is_success and run.tags["dagster/partition"] == "2026-10-01"
        latest = instance.get_latest_materialization_event(INVOICE_REGISTER)
        assert latest is not None and latest.run_id == run.run_id


def test_billing_command_fails_in_one_line_on_bad_input(tiny_company: Path, tmp_path: Path) -> None:
    (tiny_company / "customers.csv").write_text(
        "customer_id,name,email,currency,tax_rate,country,segment\n"
        "acme,Acme,a@x,USD,eight percent,US,smb\n"
        "beta,Beta,b@x,USD,0,DE,startup\n"
    )
    db = tmp_path / "billing.duckdb"
    args = ["run", "--data-dir", str(tiny_company), "--db", str(db), "--period", "2026-10"]
    done = subprocess.run([str(BILLING), *args], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    message = done.stderr.strip()
    assert "\n" not in message
    assert "customers.csv" in message and "tax_rate" in message
