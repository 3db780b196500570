"""dbt in the Dagster process (orchestration/dbt_runner.py): one parse, any period.

The manifest is parsed once per process without the run vars; these tests show
the period still reaches every model, that the warehouse is free again as soon
as dbt is done, that a failing command says what dbt said, and that dbt keeps
its saved parse from one warehouse to the next.
"""

import json
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt_runner import BillingDbt, DbtFailed
from orchestration.project import PARSE_STAND_IN_DIR, _parse_dbt_project
from tests.dbt_cli import dbt_failures, run_dbt


def _run_segments_for(period: str) -> None:
    BillingDbt().run(
        [
            "run",
            "--select",
            "int_subscription_segments_clipped",
            "--vars",
            json.dumps({"period": period, "as_of": ""}),
        ]
    )


def _segment_periods(db: Path) -> set[str]:
    # Read-only while this process has just run dbt: dbt's DuckDB handle is closed.
    with duckdb.connect(str(db), read_only=True) as conn:
        rows = conn.execute(
            "select distinct split_part(segment_id, '@', 2) "
            "from intermediate.int_subscription_segments_clipped"
        ).fetchall()
    return {row[0] for row in rows}


def test_each_command_compiles_for_its_own_period(billed_warehouse: Path) -> None:
    for period in ("2026-09", "2026-10", "2026-09"):
        _run_segments_for(period)
        assert _segment_periods(billed_warehouse) == {period}


def test_a_failing_command_raises_with_dbts_first_error(billed_warehouse: Path) -> None:
    with pytest.raises(
        DbtFailed, match=r"dbt run --select .* failed: .*must be YYYY-MM, got '2026/10'"
    ):
        _run_segments_for("2026/10")


def _compiled_views(db: Path, period: str, as_of: str, target: Path) -> dict[str, str]:
    dbt_vars = json.dumps({"period": period, "as_of": as_of})
    done = run_dbt(
        db, target, "compile", "--select", "config.materialized:view", "--vars", dbt_vars
    )
    assert done.success, dbt_failures(done)
    return {r.node.name: r.node.compiled_code for r in done.result.results}


def test_views_are_the_same_for_every_period(billed_warehouse: Path, tmp_path: Path) -> None:
    """A reporting run on its own re-creates only the intermediate tables it reads
    for its period (period_tables_read_by_reporting), which leaves the views out:
    none may depend on the period."""
    september = _compiled_views(billed_warehouse, "2026-09", "2026-10-05 00:00:00", tmp_path / "a")
    october = _compiled_views(billed_warehouse, "2026-10", "2026-11-20 00:00:00", tmp_path / "b")
    assert {"stg_usage_events", "quarantined_events", "fct_invoices"} <= set(september)
    assert september == october


def test_every_warehouse_gets_the_same_parse_so_dbt_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dbt re-parses the whole project when the profile's connection values change
    (orchestration/project.py): the parse must not see which warehouse it is for,
    beyond the file name every relation's catalog is named after."""
    manifests = []
    for folder in ("first", "second"):
        monkeypatch.setenv("BILLING_DB", str(tmp_path / folder / "billing.duckdb"))
        manifests.append(_parse_dbt_project({}))
    first, second = (m.state_check.profile_hash.checksum for m in manifests)
    assert first == second
    assert manifests[1].nodes["model.billing.fct_invoice_register"].database == "billing"
    assert not PARSE_STAND_IN_DIR.exists()
