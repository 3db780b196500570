"""Downstream of the invoices: PDFs, and the Stripe and QuickBooks hand-off.

Each asset calls exporters/; nothing here knows how an invoice is rendered or
what a provider's request looks like.
"""

import os

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    asset,
)

from exporters.invoice_documents import read_invoice_documents
from exporters.invoice_pdf import render_invoice_pdfs
from exporters.invoice_sync import PROVIDERS, sync_invoices
from orchestration.assets.loading import DUCKDB_WRITERS
from orchestration.assets.rating import INVOICE_REGISTER
from orchestration.partitions import ONE_PERIOD_PER_RUN, billing_periods, period_start_of
from orchestration.resources import BillingClock, BillingWarehouse

EVERY_INVOICE_SYNCED = "every_invoice_synced"


@asset(
    deps=[INVOICE_REGISTER],
    partitions_def=billing_periods,
    backfill_policy=ONE_PERIOD_PER_RUN,
    # A read-only DuckDB connection fails while another process writes, so
    # readers queue in the same pool as the writers.
    pool=DUCKDB_WRITERS,
    group_name="invoicing",
    description="One PDF per finalized invoice of the period; an issued PDF is never re-rendered.",
)
def invoice_pdfs(context: AssetExecutionContext, warehouse: BillingWarehouse) -> MaterializeResult:
    with warehouse.connect(read_only=True) as conn:
        documents = read_invoice_documents(conn, period_start_of(context.partition_key))
    paths = render_invoice_pdfs(documents, warehouse.invoices_dir)
    return MaterializeResult(
        metadata={"invoices": len(paths), "folder": str(warehouse.invoices_dir)}
    )


def _sync_asset(provider: str):
    @asset(
        name=f"{provider}_invoices",
        deps=[INVOICE_REGISTER],
        partitions_def=billing_periods,
        backfill_policy=ONE_PERIOD_PER_RUN,
        pool=DUCKDB_WRITERS,
        group_name="sync",
        check_specs=[AssetCheckSpec(EVERY_INVOICE_SYNCED, asset=f"{provider}_invoices")],
        description=(
            f"The period's finalized invoices in {provider}; with no credentials configured, "
            "the exact requests are written to the outbox instead. The check fails when an "
            "invoice could not be synced after retries (the others still are)."
        ),
    )
    def sync(
        context: AssetExecutionContext, warehouse: BillingWarehouse, clock: BillingClock
    ) -> MaterializeResult:
        with warehouse.connect() as conn:
            documents = read_invoice_documents(conn, period_start_of(context.partition_key))
            outcome = sync_invoices(
                conn,
                documents,
                provider,
                outbox_dir=warehouse.outbox_dir,
                as_of=clock.now(),
                environ=os.environ,
            )
        for line in outcome.lines:
            context.log.info(line)
        return MaterializeResult(
            metadata={
                "mode": outcome.mode,
                "invoices": len(documents),
                "report": MetadataValue.text("\n".join(outcome.lines)),
            },
            check_results=[
                AssetCheckResult(
                    check_name=EVERY_INVOICE_SYNCED,
                    passed=not outcome.failures,
                    severity=AssetCheckSeverity.ERROR,
                    metadata={"failed": MetadataValue.text("\n".join(outcome.failures))},
                )
            ],
        )

    return sync


stripe_invoices, quickbooks_invoices = (_sync_asset(provider) for provider in PROVIDERS)
