"""Invoice e-mail: each issued invoice's PDF to its customer, when SMTP is configured.

The asset calls exporters/invoice_email.py; the SMTP_* variables are read from
the environment when it runs, and unset means no e-mail (not a failure).
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
from exporters.invoice_email import SmtpSettings, is_issued, send_invoice_emails
from exporters.invoice_pdf import render_invoice_pdfs
from orchestration.assets.invoicing import invoice_pdfs
from orchestration.assets.loading import DUCKDB_WRITERS
from orchestration.partitions import ONE_PERIOD_PER_RUN, billing_periods, period_start_of
from orchestration.resources import BillingClock, BillingWarehouse

EVERY_INVOICE_EMAILED = "every_invoice_emailed"


@asset(
    deps=[invoice_pdfs],
    partitions_def=billing_periods,
    backfill_policy=ONE_PERIOD_PER_RUN,
    pool=DUCKDB_WRITERS,
    group_name="invoicing",
    check_specs=[AssetCheckSpec(EVERY_INVOICE_EMAILED, asset="invoice_emails")],
    description=(
        "Each issued invoice of the period e-mailed once to its customer with its PDF "
        "(state in sync.invoice_deliveries); nothing is sent when SMTP_HOST is unset. "
        "The check fails when an invoice could not be e-mailed (the others still are)."
    ),
)
def invoice_emails(
    context: AssetExecutionContext, warehouse: BillingWarehouse, clock: BillingClock
) -> MaterializeResult:
    settings = SmtpSettings.from_environ(os.environ)
    with warehouse.connect() as conn:
        documents = read_invoice_documents(conn, period_start_of(context.partition_key))
        issued = [doc for doc in documents if is_issued(doc)]
        pdf_paths = {}
        if settings:
            # Renders only missing PDFs: an issued invoice's PDF is never rendered again.
            paths = render_invoice_pdfs(issued, warehouse.invoices_dir)
            pdf_paths = {doc.invoice_id: path for doc, path in zip(issued, paths, strict=True)}
        outcome = send_invoice_emails(conn, issued, pdf_paths, settings, as_of=clock.now())
    for line in outcome.lines:
        context.log.info(line)
    return MaterializeResult(
        metadata={
            "configured": outcome.configured,
            "sent": len(outcome.sent),
            "already_sent": len(outcome.already_sent),
            "failed": len(outcome.failures),
            "report": MetadataValue.text("\n".join(outcome.lines)),
        },
        check_results=[
            AssetCheckResult(
                check_name=EVERY_INVOICE_EMAILED,
                passed=not outcome.failures,
                severity=AssetCheckSeverity.ERROR,
                metadata={"failed": MetadataValue.text("\n".join(outcome.failures))},
            )
        ],
    )
