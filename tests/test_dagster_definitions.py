"""The Dagster definitions as finance uses them: load them, look at the graph, run a partition."""

from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey
from dagster_dbt import get_asset_key_for_model

from orchestration.assets.rating import BOOKED_REPORTING, billing_dbt_models, reporting_dbt_models
from orchestration.definitions import defs
from orchestration.resources import BillingWarehouse


def test_definitions_load_with_monthly_partitions() -> None:
    job = defs.resolve_job_def("bill_period")
    assert job.partitions_def is not None
    keys = job.partitions_def.get_partition_keys()
    assert "2026-10-01" in keys


def test_dbt_models_depend_on_the_loaders_and_tests_are_checks() -> None:
    graph = defs.resolve_asset_graph()
    invoices = get_asset_key_for_model([billing_dbt_models], "fct_invoice_register")
    assert invoices in graph.get_all_asset_keys()
    staged_events = get_asset_key_for_model([billing_dbt_models], "stg_usage_events")
    upstream = graph.get(staged_events).parent_keys
    assert AssetKey(["raw", "usage_events"]) in upstream
    loader_inputs = graph.get(AssetKey(["raw", "usage_events"])).parent_keys
    assert AssetKey(["raw", "subscriptions"]) in loader_inputs
    assert AssetKey(["invoice_pdfs"]) in graph.get(invoices).child_keys
    check_names = {check.name for check in graph.asset_check_keys if check.asset_key == invoices}
    assert "unique_fct_invoice_register_invoice_number" in check_names


def test_the_ledger_and_reconciliation_follow_the_sync_and_fail_loudly() -> None:
    graph = defs.resolve_asset_graph()
    ledger = get_asset_key_for_model([billing_dbt_models], "fct_revenue_ledger")
    assert AssetKey(["stripe_invoices"]) in graph.get(ledger).parent_keys
    register = get_asset_key_for_model([billing_dbt_models], "fct_invoice_register")
    assert register in graph.get(AssetKey(["stripe_invoices"])).parent_keys
    reconciliation = get_asset_key_for_model([billing_dbt_models], "rpt_reconciliation")
    checks = {c.name for c in graph.asset_check_keys if c.asset_key == reconciliation}
    assert "accepted_values_rpt_reconciliation_ok__True" in checks


def test_a_booking_rebuilds_what_reads_the_records_and_no_usage_mart() -> None:
    booked = BOOKED_REPORTING.resolve(defs.resolve_asset_graph())

    def key(model: str) -> AssetKey:
        return get_asset_key_for_model([reporting_dbt_models], model)

    for model in ("fct_invoices", "fct_revenue_ledger", "rpt_reconciliation"):
        assert key(model) in booked, model
    for model in ("fct_usage_daily", "rpt_usage_gaps", "rpt_source_file_quality"):
        assert key(model) not in booked, model


def test_schedules_run_after_the_grace_periods() -> None:
    billing = defs.get_schedule_def("bill_period_after_invoice_grace")
    payments = defs.get_schedule_def("collect_payments_after_payment_grace")
    assert (billing.job_name, payments.job_name) == ("bill_period", "collect_payments")
    assert billing.cron_schedule == payments.cron_schedule == "0 6 * * *"


def test_bill_period_job_materializes_a_partition(
    tiny_company: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "billing.duckdb"
    monkeypatch.setenv("BILLING_DATA_DIR", str(tiny_company))
    monkeypatch.setenv("BILLING_DB", str(db))
    monkeypatch.setenv("BILLING_OUTPUT_DIR", str(tmp_path))
    result = defs.resolve_job_def("bill_period").execute_in_process(
        partition_key="2026-10-01",
        run_config={"resources": {"clock": {"config": {"as_of": "2026-11-05T00:00:00Z"}}}},
    )
    assert result.success
    with duckdb.connect(str(db), read_only=True) as conn:
        totals = conn.execute(
            "select invoice_number, total from main.fct_invoices order by 1"
        ).fetchall()
    assert [(number, str(total)) for number, total in totals] == [
        ("INV-000001", "416.24"),
        ("INV-000002", "49.00"),
    ]
    assert sorted(p.name for p in (tmp_path / "invoices").iterdir()) == [
        "INV-000001.pdf",
        "INV-000002.pdf",
    ]


def test_warehouse_connections_keep_duckdb_within_the_memory_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load of a large period spills instead of taking 80 % of the machine."""
    monkeypatch.delenv("BILLING_DUCKDB_MEMORY_LIMIT", raising=False)
    warehouse = BillingWarehouse(
        data_dir=str(tmp_path), db_path=str(tmp_path / "billing.duckdb"), output_dir=str(tmp_path)
    )
    with warehouse.connect() as conn:
        (default,) = conn.execute("select current_setting('memory_limit')").fetchone()
    monkeypatch.setenv("BILLING_DUCKDB_MEMORY_LIMIT", "1GiB")
    with warehouse.connect() as conn:
        (configured,) = conn.execute("select current_setting('memory_limit')").fetchone()
    assert (default, configured) == ("5.5 GiB", "1.0 GiB")
