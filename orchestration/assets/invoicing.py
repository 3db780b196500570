"""Downstream of the invoices: PDFs, and the Stripe and QuickBooks hand-off.

Each asset reads the warehouse read-only and calls exporters/; nothing here
knows how an invoice is rendered or what a provider's request looks like.
"""

import os

from dagster import AssetExecutionContext, MaterializeResult, asset
from dagster_dbt import get_asset_key_for_model

from exporters.credentials import is_configured
from exporters.invoice_documents import read_invoice_documents
from exporters.invoice_pdf import render_invoice_pdfs
from exporters.outbox_sync import write_invoice_outbox
from orchestration.assets.rating import billing_dbt_models
from orchestration.partitions import ONE_PERIOD_PER_RUN, billing_periods, period_start_of
from orchestration.resources import BillingWarehouse

FCT_INVOICES = get_asset_key_for_model([billing_dbt_models], "fct_invoices")


def _finalized_invoices(context: AssetExecutionContext, warehouse: BillingWarehouse) -> list:
    with warehouse.connect(read_only=True) as conn:
        return read_invoice_documents(conn, period_start_of(context.partition_key))


@asset(
    deps=[FCT_INVOICES],
    partitions_def=billing_periods,
    backfill_policy=ONE_PERIOD_PER_RUN,
    group_name="invoicing",
    description="One PDF per finalized invoice of the period; an issued PDF is never re-rendered.",
)
def invoice_pdfs(context: AssetExecutionContext, warehouse: BillingWarehouse) -> MaterializeResult:
    documents = _finalized_invoices(context, warehouse)
    paths = render_invoice_pdfs(documents, warehouse.invoices_dir)
    return MaterializeResult(
        metadata={"invoices": len(paths), "folder": str(warehouse.invoices_dir)}
    )


def _sync_asset(provider: str):
    @asset(
        name=f"{provider}_invoices",
        deps=[FCT_INVOICES],
        partitions_def=billing_periods,
        backfill_policy=ONE_PERIOD_PER_RUN,
        group_name="sync",
        description=(
            f"The period's finalized invoices in {provider}; with no credentials configured, "
            "the exact requests are written to the outbox instead."
        ),
    )
    def sync(context: AssetExecutionContext, warehouse: BillingWarehouse) -> MaterializeResult:
        documents = _finalized_invoices(context, warehouse)
        if is_configured(provider, os.environ):
            raise NotImplementedError(
                f"{provider} credentials are set, but live {provider} sync is not built yet; "
                "unset them to write the outbox"
            )
        report = write_invoice_outbox(documents, warehouse.outbox_dir, provider)
        context.log.warning(report.message)
        return MaterializeResult(metadata={"mode": "outbox", "invoices": len(documents)})

    return sync


stripe_invoices = _sync_asset("stripe")
quickbooks_invoices = _sync_asset("quickbooks")
