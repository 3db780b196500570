"""The Dagster definitions: what finance sees in the UI.

Paths come from BILLING_DATA_DIR, BILLING_DB and BILLING_OUTPUT_DIR (the
Makefile sets them for `make ui`); no integration secret is read here.
"""

from dagster import (
    AssetSelection,
    Definitions,
    EnvVar,
    build_schedule_from_partitioned_job,
    define_asset_job,
)

from orchestration.assets.invoicing import invoice_pdfs, quickbooks_invoices, stripe_invoices
from orchestration.assets.loading import reference_data, usage_events
from orchestration.assets.portal import usage_portal
from orchestration.assets.rating import billing_dbt_models
from orchestration.assets.simulation import pricing_simulation
from orchestration.assets.usage_health import usage_is_complete
from orchestration.partitions import billing_periods
from orchestration.project import billing_dbt_cli
from orchestration.resources import BillingClock, BillingWarehouse

BILL_PERIOD_ASSETS = [reference_data, usage_events, billing_dbt_models, invoice_pdfs]
SYNC_ASSETS = {"stripe": stripe_invoices, "quickbooks": quickbooks_invoices}
ANALYTICS_ASSETS = [usage_portal, pricing_simulation, usage_is_complete]
ALL_ASSETS = [*BILL_PERIOD_ASSETS, *SYNC_ASSETS.values(), *ANALYTICS_ASSETS]

bill_period_job = define_asset_job(
    "bill_period",
    selection=AssetSelection.assets(*BILL_PERIOD_ASSETS),
    partitions_def=billing_periods,
    description=(
        "Load new usage, rate the period, write its invoices as drafts, and finalize and "
        "render them once the invoice grace period has passed."
    ),
)

simulate_pricing_job = define_asset_job(
    "simulate_pricing",
    selection=AssetSelection.assets(pricing_simulation),
    description=(
        "Re-rate billed periods under a candidate catalog (set candidate, periods and "
        "threshold_percent in the launchpad) and compare with what was invoiced."
    ),
)

# Runs on the 4th at 06:00 UTC for the month just ended: after the default 3-day
# invoice grace period, so the run finalizes. Re-running earlier only refreshes drafts.
bill_period_schedule = build_schedule_from_partitioned_job(
    bill_period_job, day_of_month=4, hour_of_day=6
)


def billing_resources(
    *, data_dir: str, db_path: str, output_dir: str, as_of: str = ""
) -> dict[str, object]:
    """The resources of a run; the CLI and the tests pass explicit paths."""
    return {
        "dbt": billing_dbt_cli(),
        "warehouse": BillingWarehouse(data_dir=data_dir, db_path=db_path, output_dir=output_dir),
        "clock": BillingClock(as_of=as_of),
    }


defs = Definitions(
    assets=ALL_ASSETS,
    jobs=[bill_period_job, simulate_pricing_job],
    schedules=[bill_period_schedule],
    resources=billing_resources(
        data_dir=EnvVar("BILLING_DATA_DIR"),
        db_path=EnvVar("BILLING_DB"),
        output_dir=EnvVar("BILLING_OUTPUT_DIR"),
    ),
)
