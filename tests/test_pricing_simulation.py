"""`billing simulate`: history re-rated under a candidate catalog, nothing invoiced touched.

The candidate raises the tiny company's Starter API-call price from $0.002 to
$0.004 (fixtures/tiny_company/EXPECTED.md has the invoices it is compared with).
"""

import csv
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey
from dagster_dbt import get_asset_key_for_model

from exporters.simulation.staging import stage_candidate
from orchestration.assets.rating import billing_dbt_models
from orchestration.cli import main
from orchestration.definitions import defs
from orchestration.runs import Deployment

REAL_SCHEMAS = ("main", "raw", "staging", "intermediate", "reference")


def _snapshot(db_path: Path) -> dict[str, object]:
    """Every relation of the real schemas: a view's SQL, a table's sorted rows."""
    with duckdb.connect(str(db_path), read_only=True) as conn:
        views = conn.execute(
            "select schema_name, view_name, sql from duckdb_views() "
            "where not internal and schema_name in (select unnest(?)) order by 1, 2",
            [list(REAL_SCHEMAS)],
        ).fetchall()
        tables = conn.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where schema_name in (select unnest(?)) order by 1, 2",
            [list(REAL_SCHEMAS)],
        ).fetchall()
        snapshot: dict[str, object] = {"views": views, "tables": tables}
        for schema, table in tables:
            rows = conn.execute(f'select * from "{schema}"."{table}"').fetchall()
            snapshot[f"{schema}.{table}"] = sorted(map(repr, rows))
    return snapshot


@pytest.fixture
def warehouse(billed: Deployment, tmp_path: Path) -> Path:
    """A private copy of the billed tiny company (same file name: DuckDB's catalog name)."""
    db = tmp_path / "output" / billed.db_path.name
    db.parent.mkdir()
    shutil.copy(billed.db_path, db)
    return db


@pytest.fixture
def candidate(billed: Deployment, tmp_path: Path) -> Path:
    text = (billed.data_dir / "catalog.yml").read_text()
    starter_price = "{meter: api_calls, model: per_unit, unit_price: 0.002}"
    assert text.count(starter_price) == 1
    path = tmp_path / "new_catalog.yml"
    path.write_text(text.replace(starter_price, starter_price.replace("0.002", "0.004")))
    return path


def test_simulation_compares_candidate_with_invoiced_and_touches_nothing_real(
    billed: Deployment, warehouse: Path, candidate: Path, capsys: pytest.CaptureFixture
) -> None:
    before = _snapshot(warehouse)
    argv = ["simulate", "--candidate", str(candidate), "--periods", "2026-09..2026-10"]
    argv += ["--db", str(warehouse), "--data-dir", str(billed.data_dir), "--threshold", "0.25"]
    assert main(argv) == 0
    assert _snapshot(warehouse) == before

    out = capsys.readouterr().out
    assert "starter" in out and "pricing_simulation.html" in out
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rows = conn.execute(
            "select customer_id, plan_id, current_revenue, candidate_revenue, difference, "
            "percent_change, pays_more_than_threshold "
            "from simulation.pricing_comparison order by 1, 2"
        ).fetchall()
        statuses = conn.execute("select distinct status from sim_main.fct_invoices").fetchall()
    # acme on Starter: Sep 49.00 + 10 calls, Oct 15.81 + 150 calls. At $0.004 the calls
    # cost 0.04 + 0.60 instead of 0.02 + 0.30: 65.13 -> 65.45, +0.32 = +0.49 % (> 0.25 %).
    assert rows == [
        (
            "acme",
            "growth",
            Decimal("368.41"),
            Decimal("368.41"),
            Decimal("0.00"),
            Decimal("0.00"),
            False,
        ),
        (
            "acme",
            "starter",
            Decimal("65.13"),
            Decimal("65.45"),
            Decimal("0.32"),
            Decimal("0.49"),
            True,
        ),
        (
            "beta",
            "starter",
            Decimal("75.13"),
            Decimal("75.13"),
            Decimal("0.00"),
            Decimal("0.00"),
            False,
        ),
    ]
    assert statuses == [("draft",)]

    report_dir = warehouse.parent / "simulation"
    with (report_dir / "pricing_comparison.csv").open() as handle:
        csv_rows = list(csv.DictReader(handle))
    assert [(r["customer_id"], r["plan_id"], r["difference"]) for r in csv_rows][1] == (
        "acme",
        "starter",
        "0.32",
    )
    html = (report_dir / "pricing_simulation.html").read_text()
    assert "<svg" in html and "Acme Analytics" in html and "+0.49 %" in html


def test_simulation_without_data_dir_uses_the_warehouse_reference_data(
    warehouse: Path, candidate: Path
) -> None:
    argv = ["simulate", "--candidate", str(candidate), "--periods", "2026-10"]
    assert main([*argv, "--db", str(warehouse)]) == 0
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        (difference,) = conn.execute(
            "select sum(difference) from simulation.pricing_comparison"
        ).fetchone()
    assert difference == Decimal("0.30")


def test_a_candidate_stages_through_a_scratch_folder_whose_path_has_a_quote(
    billed: Deployment,
    warehouse: Path,
    candidate: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The candidate's scratch warehouse is a temp file: its path is quoted in SQL."""
    scratch_root = tmp_path / "o'brien"
    scratch_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch_root))
    with duckdb.connect(str(warehouse)) as conn:
        rows = stage_candidate(conn, candidate, billed.data_dir)
        (plans,) = conn.execute("select count(*) from sim_raw.plans").fetchone()
    assert plans == rows["plans"] > 0


def test_a_bad_candidate_stops_with_its_reason_and_changes_nothing(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    before = _snapshot(warehouse)
    bad = tmp_path / "bad_catalog.yml"
    bad.write_text("meters: []\nplans: []\n")
    argv = ["simulate", "--candidate", str(bad), "--periods", "2026-10", "--db", str(warehouse)]
    assert main(argv) == 1
    assert "catalog.yml" in capsys.readouterr().err
    assert _snapshot(warehouse) == before


def test_simulation_is_a_dagster_job_and_the_usage_check_never_blocks() -> None:
    job = defs.resolve_job_def("simulate_pricing")
    assert job.asset_layer.asset_graph.get(AssetKey("pricing_simulation")) is not None
    graph = defs.resolve_asset_graph()
    gaps = get_asset_key_for_model([billing_dbt_models], "rpt_usage_gaps")
    (check,) = [k for k in graph.asset_check_keys if k.name == "usage_is_complete"]
    assert check.asset_key == gaps
    assert not graph.get_check_spec(check).blocking
