"""The Dagster definitions: what finance sees in the UI.

Paths come from BILLING_DATA_DIR, BILLING_DB and BILLING_OUTPUT_DIR (the
Makefile sets them for `make ui`); no integration secret is read here.
"""

from dagster import AssetSelection, Definitions, EnvVar, define_asset_job

from orchestration.assets.delivery import invoice_emails
from orchestration.assets.invoicing import invoice_pdfs, quickbooks_invoices, stripe_invoices
from orchestration.assets.loading import reference_data, usage_events
from orchestration.assets.portal import usage_portal
from orchestration.assets.rating import (
    BOOKED_REPORTING,
    billing_dbt_models,
    reporting_dbt_models,
)
from orchestration.assets.simulation import pricing_simulation
from orchestration.assets.usage_health import usage_is_complete
from orchestration.dbt_runner import BillingDbt
from orchestration.partitions import billing_periods
from orchestration.resources import BillingClock, BillingWarehouse
from orchestration.schedules import (
    bill_period_after_invoice_grace,
    collect_payments_after_payment_grace,
    new_landing_files,
)

LOAD_ASSETS = [reference_data, usage_events]
BILL_PERIOD_ASSETS = [
    *LOAD_ASSETS,
    billing_dbt_models,
    invoice_pdfs,
    invoice_emails,
    reporting_dbt_models,
]
SYNC_ASSETS = {"stripe": stripe_invoices, "quickbooks": quickbooks_invoices}
ANALYTICS_ASSETS = [usage_portal, pricing_simulation, usage_is_complete]
ALL_ASSETS = [*BILL_PERIOD_ASSETS, *SYNC_ASSETS.values(), *ANALYTICS_ASSETS]

bill_period_job = define_asset_job(
    "bill_period",
    selection=AssetSelection.assets(*BILL_PERIOD_ASSETS),
    partitions_def=billing_periods,
    description=(
        "Load new usage, rate the period, write its invoices as drafts, and finalize, "
        "render and e-mail them once the invoice grace period has passed."
    ),
)

collect_payments_job = define_asset_job(
    "collect_payments",
    selection=AssetSelection.assets(*SYNC_ASSETS.values()) | BOOKED_REPORTING,
    partitions_def=billing_periods,
    description=(
        "Hand the period's finalized invoices to Stripe and QuickBooks (charging them once "
        "due), then book payments and declines in the ledger."
    ),
)

load_usage_job = define_asset_job(
    "load_usage",
    selection=AssetSelection.assets(*LOAD_ASSETS),
    partitions_def=billing_periods,
    description="Load new landing files (each exactly once) and the reference data.",
)

simulate_pricing_job = define_asset_job(
    "simulate_pricing",
    selection=AssetSelection.assets(pricing_simulation),
    description=(
        "Re-rate billed periods under a candidate catalog (set candidate, periods and "
        "threshold_percent in the launchpad) and compare with what was invoiced."
    ),
)


def billing_resources(
    *, data_dir: str, db_path: str, output_dir: str, as_of: str = ""
) -> dict[str, object]:
    """The resources of a run; the CLI and the tests pass explicit paths."""
    return {
        "dbt": BillingDbt(),
        "warehouse": BillingWarehouse(data_dir=data_dir, db_path=db_path, output_dir=output_dir),
        "clock": BillingClock(as_of=as_of),
    }


defs = Definitions(
    assets=ALL_ASSETS,
    jobs=[bill_period_job, collect_payments_job, load_usage_job, simulate_pricing_job],
    schedules=[
        bill_period_after_invoice_grace(bill_period_job),
        collect_payments_after_payment_grace(collect_payments_job),
    ],
    sensors=[new_landing_files(load_usage_job)],
    resources=billing_resources(
        data_dir=EnvVar("BILLING_DATA_DIR"),
        db_path=EnvVar("BILLING_DB"),
        output_dir=EnvVar("BILLING_OUTPUT_DIR"),
    ),
)
