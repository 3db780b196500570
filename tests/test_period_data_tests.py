"""The period-scoped data tests (dbt_project/macros/period_tests.sql), on real dbt.

fct_usage_events keeps every period; its `unique_in_period` and
`not_null_in_period` tests look at the run's period only. A fault in one
period fails that period's run, and no other.
"""

import json
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt_runner import BillingDbt, DbtFailed


def _test_usage_events(period: str) -> None:
    BillingDbt().run(
        [
            "test",
            "--select",
            "fct_usage_events",
            "--exclude-resource-type",
            "unit_test",
            "--vars",
            json.dumps({"period": period, "as_of": ""}),
        ]
    )


def test_a_duplicated_event_fails_its_own_period_only(billed_warehouse: Path) -> None:
    with duckdb.connect(str(billed_warehouse)) as conn:
        conn.execute(
            "insert into main.fct_usage_events "
            "select * from main.fct_usage_events where period_start = '2026-09-01' limit 1"
        )
    _test_usage_events("2026-10")
    with pytest.raises(DbtFailed, match="unique_in_period_fct_usage_events_event_id"):
        _test_usage_events("2026-09")


def test_an_event_without_a_segment_fails_its_own_period_only(billed_warehouse: Path) -> None:
    with duckdb.connect(str(billed_warehouse)) as conn:
        conn.execute(
            "update main.fct_usage_events set segment_id = null where event_id = "
            "(select min(event_id) from main.fct_usage_events where period_start = '2026-10-01')"
        )
    _test_usage_events("2026-09")
    with pytest.raises(DbtFailed, match="not_null_in_period_fct_usage_events_segment_id"):
        _test_usage_events("2026-10")
