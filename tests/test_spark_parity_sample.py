"""A month of the sample company on Apache Spark: every mart row equal to DuckDB's, to
the last decimal (how both engines bill and compare: tests/spark_parity.py)."""

from pathlib import Path

import pytest

from data.generate_sample import generate_sample
from tests.spark_parity import assert_marts_equal, two_engines

pytestmark = pytest.mark.spark


def test_a_sample_month_is_equal_on_spark(tmp_path: Path) -> None:
    generate_sample(tmp_path / "sample")
    engines = two_engines(tmp_path, tmp_path / "sample", "sample_")
    engines.bill("2026-08", "2026-11-05T00:00:00Z", last=True)
    compared = assert_marts_equal(engines, engines.export_spark_marts())
    assert compared["fct_invoices"] > 0 and compared["fct_usage_events"] > 0
