"""The golden scenarios on Apache Spark: every mart row equal to DuckDB's, to the last
decimal (how both engines bill and compare: tests/spark_parity.py).

The scenarios' periods run in order, each period's files landing before its run,
as in tests/test_scenarios.py.
"""

from pathlib import Path

import pytest

from tests.scenario_inputs import bill_merged_scenarios, runs, scenario_dirs
from tests.spark_parity import assert_marts_equal, two_engines

pytestmark = pytest.mark.spark


def test_golden_scenarios_are_equal_on_spark(tmp_path: Path) -> None:
    engines = two_engines(tmp_path, tmp_path / "data", "scenarios_")
    last = runs(scenario_dirs())[-1]
    bill_merged_scenarios(
        engines.data_dir,
        lambda period, as_of: engines.bill(period, as_of, last=(period, as_of) == last),
    )
    compared = assert_marts_equal(engines, engines.export_spark_marts())
    assert compared["fct_invoice_lines"] > 0 and compared["fct_revenue_ledger"] > 0
