"""The key, not-NULL and period-scoped data tests (dbt_project/macros/
primary_key_tests.sql, not_null_columns_tests.sql, period_tests.sql), on real dbt.

A `primary_key` fails on a key value repeated or NULL; `not_null_columns` on a
NULL in any of its columns, and says which. fct_usage_events keeps every
period; its `primary_key_in_period` and `not_null_columns_in_period` tests look
at the run's period only. A fault in one period fails that period's run, and
no other.
"""

import json
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt_runner import BillingDbt, DbtFailed


def _run_data_tests(period: str, selector: str = "fct_usage_events", *options: str) -> None:
    BillingDbt().run(
        [
            "test",
            "--select",
            selector,
            "--exclude-resource-type",
            "unit_test",
            *options,
            "--vars",
            json.dumps({"period": period, "as_of": ""}),
        ]
    )


@pytest.mark.parametrize(
    "fault",
    [
        "insert into main.fct_usage_events "
        "select * from main.fct_usage_events where period_start = '2026-09-01' limit 1",
        "update main.fct_usage_events set event_id = null where event_id = "
        "(select min(event_id) from main.fct_usage_events where period_start = '2026-09-01')",
    ],
    ids=["duplicated", "null"],
)
def test_a_bad_event_id_fails_its_own_period_only(billed_warehouse: Path, fault: str) -> None:
    with duckdb.connect(str(billed_warehouse)) as conn:
        conn.execute(fault)
    _run_data_tests("2026-10")
    with pytest.raises(DbtFailed, match="primary_key_in_period_fct_usage_events_event_id"):
        _run_data_tests("2026-09")


@pytest.mark.parametrize(
    "fault",
    [
        "insert into main.fct_invoice_lines select * from main.fct_invoice_lines limit 1",
        "update main.fct_invoice_lines set invoice_line_id = null "
        "where invoice_line_id = (select min(invoice_line_id) from main.fct_invoice_lines)",
    ],
    ids=["duplicated", "null"],
)
def test_a_repeated_or_missing_key_fails_its_primary_key(
    billed_warehouse: Path, fault: str
) -> None:
    key_tests = "fct_invoice_lines,test_name:primary_key"
    _run_data_tests("2026-10", key_tests)
    with duckdb.connect(str(billed_warehouse)) as conn:
        conn.execute(fault)
    with pytest.raises(DbtFailed, match="primary_key_fct_invoice_lines_invoice_line_id"):
        _run_data_tests("2026-10", key_tests)


def test_an_event_without_a_segment_fails_its_own_period_only(billed_warehouse: Path) -> None:
    with duckdb.connect(str(billed_warehouse)) as conn:
        conn.execute(
            "update main.fct_usage_events set segment_id = null where event_id = "
            "(select min(event_id) from main.fct_usage_events where period_start = '2026-10-01')"
        )
    _run_data_tests("2026-09")
    with pytest.raises(DbtFailed, match="not_null_columns_in_period_fct_usage_events_segment_id"):
        _run_data_tests("2026-10")


def test_null_amounts_fail_not_null_columns_which_names_them(billed_warehouse: Path) -> None:
    """The failing rows (kept with --store-failures) name the NULL columns and count
    the rows where they are NULL together."""
    null_tests = "fct_invoice_register,test_name:not_null_columns"
    test_name = (
        "not_null_columns_fct_invoice_register_subtotal__discount_total__credit_total__"
        "tax_total__total"
    )
    _run_data_tests("2026-10", null_tests)
    with duckdb.connect(str(billed_warehouse)) as conn:
        conn.execute(
            "update main.fct_invoice_register set tax_total = null "
            "where invoice_id = (select min(invoice_id) from main.fct_invoice_register)"
        )
        conn.execute(
            "update main.fct_invoice_register set subtotal = null, total = null "
            "where invoice_id = (select max(invoice_id) from main.fct_invoice_register)"
        )
    with pytest.raises(DbtFailed, match=test_name):
        _run_data_tests("2026-10", null_tests, "--store-failures")
    with duckdb.connect(str(billed_warehouse), read_only=True) as conn:
        # dbt names the table of a test's failures after the test, shortened and hashed.
        (stored,) = conn.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'dbt_test__audit'"
        ).fetchall()
        failing = conn.execute(f'select * from dbt_test__audit."{stored[0]}" order by 1')
        assert failing.fetchall() == [("subtotal, total", 1), ("tax_total", 1)]
