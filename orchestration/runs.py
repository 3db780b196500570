"""Running the assets for a period outside the UI: the command line and the tests.

The same asset definitions run here as in the Dagster UI; only the resources
(explicit paths and as-of) and the console log level differ.
"""

from contextlib import redirect_stdout
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
from dagster import (
    AssetsDefinition,
    AssetSelection,
    DagsterInstance,
    ExecuteInProcessResult,
    materialize,
)
from dagster._utils.error import SerializableErrorInfo

from loaders.credit_notes import CreditNote, issue_credit_note
from orchestration.assets.rating import BOOKED_REPORTING
from orchestration.definitions import (
    ALL_ASSETS,
    BILL_PERIOD_ASSETS,
    SYNC_ASSETS,
    billing_resources,
)
from orchestration.failures import RunFailed
from orchestration.partitions import partition_key_of
from orchestration.project import ensure_dbt_manifest
from orchestration.resources import BillingClock
from orchestration.run_history import command_instance

# Failures are reported once, by RunFailed; the console logger would repeat them with tracebacks.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass(frozen=True)
class Deployment:
    """Where a deployment's inputs, warehouse and outputs are: the paths the
    `warehouse` resource of a run is configured with."""

    data_dir: Path
    db_path: Path
    output_dir: Path

    @classmethod
    def beside_database(cls, data_dir: Path, db_path: Path) -> "Deployment":
        """Outputs (PDFs, outbox) go next to the DuckDB file, e.g. data/output/."""
        return cls(data_dir=data_dir, db_path=db_path, output_dir=db_path.parent)


def _root_cause(error: SerializableErrorInfo) -> str:
    """The innermost error's message, without its 'module.Class: ' prefix."""
    while error.cause is not None:
        error = error.cause
    first_line = error.message.strip().splitlines()[0]
    prefix, separator, message = first_line.partition(": ")
    return message if separator and prefix.endswith(error.cls_name) else first_line


def _materialize(
    selection: list[AssetsDefinition] | AssetSelection,
    deployment: Deployment,
    period: str,
    as_of: str,
) -> ExecuteInProcessResult:
    """One Dagster run of `selection` for the period. dbt's own log (printed by
    dagster-dbt) goes to <output>/logs/<period>.log instead of the terminal."""
    ensure_dbt_manifest()
    log_path = deployment.output_dir / "logs" / f"{period}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with (
        log_path.open("a", encoding="utf-8") as log,
        redirect_stdout(log),
        command_instance() as instance,
    ):
        result = _materialize_quietly(selection, deployment, period, as_of, instance)
    if not result.success:
        failures = result.get_step_failure_events()
        reason = _root_cause(failures[0].step_failure_data.error) if failures else "run failed"
        raise RunFailed(reason)
    return result


def _materialize_quietly(
    selection: list[AssetsDefinition] | AssetSelection,
    deployment: Deployment,
    period: str,
    as_of: str,
    instance: DagsterInstance | None,
) -> ExecuteInProcessResult:
    return materialize(
        ALL_ASSETS,
        selection=selection,
        partition_key=partition_key_of(period),
        resources=billing_resources(
            data_dir=str(deployment.data_dir),
            db_path=str(deployment.db_path),
            output_dir=str(deployment.output_dir),
            as_of=as_of,
        ),
        run_config=QUIET_CONSOLE,
        instance=instance,
        raise_on_error=False,
        tags={"billing/period": period, "billing/as_of": as_of or "now"},
    )


def run_billing_period(deployment: Deployment, period: str, as_of: str = "") -> None:
    """Load new landing files, rate the period, draft or finalize its invoices, render PDFs."""
    _materialize(BILL_PERIOD_ASSETS, deployment, period, as_of)


@dataclass(frozen=True)
class SyncReport:
    """One line per invoice, and the lines of the invoices that could not be synced.

    `mode` is "live" when the provider was called, "outbox" when the requests were
    only written down (nothing changed that the reporting models read)."""

    mode: str
    lines: tuple[str, ...]
    failures: tuple[str, ...]


def sync_billing_period(
    deployment: Deployment, provider: str, period: str, as_of: str = ""
) -> SyncReport:
    """Hand the period's finalized invoices to one provider (or its outbox).

    What the provider reported reaches the ledger and the invoices' status
    through `book_billing_period`, once for all providers."""
    asset = SYNC_ASSETS[provider]
    result = _materialize([asset], deployment, period, as_of)
    (materialization,) = result.asset_materializations_for_node(asset.op.name)
    failed = [
        evaluation.metadata["failed"].value
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed and evaluation.asset_key == asset.key
    ]
    return SyncReport(
        mode=materialization.metadata["mode"].value,
        lines=tuple(materialization.metadata["report"].value.splitlines()),
        failures=tuple(line for text in failed for line in text.splitlines()),
    )


def book_billing_period(deployment: Deployment, period: str, as_of: str = "") -> None:
    """Rebuild the models that read the exporters' records and credit notes for the
    period: invoice status, revenue ledger, revenue recognition, reconciliation."""
    _materialize(BOOKED_REPORTING, deployment, period, as_of)


def credit_invoice(
    deployment: Deployment,
    invoice_number: str,
    *,
    amount: Decimal | None,
    reason: str,
    as_of: str = "",
) -> CreditNote:
    """Issue a credit note (all that is still due when `amount` is None, which voids
    the invoice), then book it: the invoice's period's ledger, revenue and status."""
    issued_at = BillingClock(as_of=as_of).now()
    with duckdb.connect(str(deployment.db_path)) as conn:
        note = issue_credit_note(
            conn, invoice_number, amount=amount, reason=reason, issued_at=issued_at
        )
        (period_start,) = conn.execute(
            "select period_start from main.fct_invoice_register where invoice_number = ?",
            [invoice_number],
        ).fetchone()
    book_billing_period(deployment, period_start.strftime("%Y-%m"), as_of)
    return note
