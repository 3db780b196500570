"""One billing cycle is one partition: a calendar month in UTC."""

from datetime import date, datetime

from dagster import BackfillPolicy, MonthlyPartitionsDefinition

FIRST_BILLING_PERIOD = "2025-01-01"

# end_offset=1 includes the month in progress, so its draft invoices can be
# reviewed (and usage to date rated) before it closes.
billing_periods = MonthlyPartitionsDefinition(
    start_date=FIRST_BILLING_PERIOD, timezone="UTC", end_offset=1
)

# A period's invoice numbers follow the previous period's, so a backfill bills
# one period per run, oldest first.
ONE_PERIOD_PER_RUN = BackfillPolicy.multi_run(max_partitions_per_run=1)


def period_of(partition_key: str) -> str:
    """'2026-10-01' (Dagster's monthly key) -> '2026-10' (the period name dbt and the CLI use)."""
    return partition_key[:7]


def partition_key_of(period: str) -> str:
    """'2026-10' -> '2026-10-01', validating the period."""
    try:
        datetime.strptime(period, "%Y-%m")
    except ValueError as error:
        raise ValueError(f"period must be YYYY-MM, got {period!r}") from error
    return f"{period}-01"


def periods_in(spec: str) -> list[str]:
    """'2026-10' -> ['2026-10']; '2026-08..2026-10' -> ['2026-08', '2026-09', '2026-10']."""
    first, _, last = spec.partition("..")
    start = date.fromisoformat(partition_key_of(first))
    end = date.fromisoformat(partition_key_of(last or first))
    if end < start:
        raise ValueError(f"period range {spec!r} ends before it starts")
    periods = []
    month = start
    while month <= end:
        periods.append(month.strftime("%Y-%m"))
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return periods


def period_start_of(partition_key: str) -> date:
    return date.fromisoformat(partition_key)
