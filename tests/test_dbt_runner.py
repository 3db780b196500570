"""dbt in the Dagster process (orchestration/dbt_runner.py): one parse, any period.

The manifest is parsed once per process without the run vars; these tests show
the period still reaches every model, that the warehouse is free again as soon
as dbt is done, and that a failing command says what dbt said.
"""

import json
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt_runner import BillingDbt, DbtFailed


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
