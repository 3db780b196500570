"""When periods run by themselves: after each grace period, and as files land.

The grace periods are the catalog's settings, read when a schedule is
evaluated, so changing `invoice_grace_days` or `payment_grace_days` in
catalog.yml moves the runs without a deployment. Each schedule is evaluated
daily and asks for the month just ended once its grace period is over; the
run key (job and period) makes Dagster launch that run once, however many
days the schedule is evaluated afterwards.
"""

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from dagster import (
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    schedule,
    sensor,
)

from loaders import load_catalog
from loaders.catalog import CATALOG_FILE
from loaders.catalog_models import Settings
from loaders.events import LANDING_DIR
from orchestration.resources import BillingWarehouse

EVALUATED_DAILY_AT = "0 6 * * *"


def previous_period_start(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def grace_has_passed(today: date, grace_days: int) -> bool:
    """True once `today` is at least `grace_days` after the end of last month."""
    return today >= today.replace(day=1) + timedelta(days=grace_days)


def _period_request(
    context: ScheduleEvaluationContext, job_name: str, grace_days: int
) -> RunRequest | SkipReason:
    today = context.scheduled_execution_time.date()
    period_start = previous_period_start(today)
    if not grace_has_passed(today, grace_days):
        return SkipReason(f"{period_start:%Y-%m} is in its grace period until day {grace_days + 1}")
    partition_key = period_start.isoformat()
    return RunRequest(run_key=f"{job_name}:{partition_key}", partition_key=partition_key)


def _settings(warehouse: BillingWarehouse) -> Settings:
    return load_catalog(Path(warehouse.data_dir) / CATALOG_FILE).settings


def _after_grace(name: str, job, grace_days: Callable[[Settings], int], description: str):
    """A schedule asking once for last month's partition when `grace_days` have passed."""

    @schedule(
        name=name,
        job=job,
        cron_schedule=EVALUATED_DAILY_AT,
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.RUNNING,
        description=description,
    )
    def _schedule(context: ScheduleEvaluationContext, warehouse: BillingWarehouse):
        return _period_request(context, job.name, grace_days(_settings(warehouse)))

    return _schedule


def bill_period_after_invoice_grace(job):
    return _after_grace(
        "bill_period_after_invoice_grace",
        job,
        lambda settings: settings.invoice_grace_days,
        "Bills last month once its invoice grace period (catalog invoice_grace_days) "
        "is over: the run finalizes, numbers, renders and e-mails its invoices.",
    )


def collect_payments_after_payment_grace(job):
    return _after_grace(
        "collect_payments_after_payment_grace",
        job,
        lambda settings: settings.invoice_grace_days + settings.payment_grace_days,
        "Syncs last month's invoices and charges them through Stripe once they are due "
        "(invoice_grace_days + payment_grace_days after the period), then books the "
        "outcomes in the ledger.",
    )


def landing_folder_fingerprint(data_dir: Path) -> str:
    """What the landing folder holds: file names, sizes and modification times."""
    folder = data_dir / LANDING_DIR
    files = sorted(path for path in folder.iterdir() if path.is_file()) if folder.is_dir() else []
    entries = [f"{path.name}:{path.stat().st_size}:{path.stat().st_mtime_ns}" for path in files]
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()


def new_landing_files(job):
    @sensor(
        name="new_landing_files",
        job=job,
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description=(
            "Loads usage files as they land: when the landing folder changes, a run loads "
            "the new files (each exactly once) into the month in progress."
        ),
    )
    def _sensor(context: SensorEvaluationContext, warehouse: BillingWarehouse):
        fingerprint = landing_folder_fingerprint(Path(warehouse.data_dir))
        if fingerprint == context.cursor:
            return SkipReason("no new landing files")
        context.update_cursor(fingerprint)
        month_in_progress = datetime.now(UTC).date().replace(day=1)
        return RunRequest(run_key=fingerprint, partition_key=month_in_progress.isoformat())

    return _sensor
