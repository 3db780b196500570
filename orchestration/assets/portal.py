"""The customer usage portal and the finance dashboard: static HTML from the marts.

A thin wrapper: exporters/portal reads the marts and writes the pages.
"""

from pathlib import Path

from dagster import AssetExecutionContext, MaterializeResult, asset
from dagster_dbt import get_asset_key_for_model

from exporters.portal import build_portal
from orchestration.assets.loading import DUCKDB_WRITERS
from orchestration.assets.rating import billing_dbt_models
from orchestration.partitions import ONE_PERIOD_PER_RUN, billing_periods, period_start_of
from orchestration.resources import BillingWarehouse

PORTAL_INPUTS = (
    "fct_invoices",
    "fct_credit_balances",
    "fct_usage_daily",
    "fct_customer_mrr",
    "rpt_usage_forecast",
    "rpt_usage_gaps",
    "rpt_top_customers",
)


@asset(
    deps=[get_asset_key_for_model([billing_dbt_models], model) for model in PORTAL_INPUTS],
    partitions_def=billing_periods,
    backfill_policy=ONE_PERIOD_PER_RUN,
    pool=DUCKDB_WRITERS,
    group_name="analytics",
    description=(
        "Static HTML under <output>/portal/: one page per customer (usage to date per meter, "
        "limits, credits left, a daily chart, the projected invoice) and index.html for "
        "finance (revenue and usage over time). Opens from disk, no server or internet."
    ),
)
def usage_portal(context: AssetExecutionContext, warehouse: BillingWarehouse) -> MaterializeResult:
    with warehouse.connect(read_only=True) as conn:
        summary = build_portal(
            conn, Path(warehouse.output_dir), period_start_of(context.partition_key)
        )
    return MaterializeResult(
        metadata={"customer_pages": summary.customer_pages, "index": str(summary.index)}
    )
