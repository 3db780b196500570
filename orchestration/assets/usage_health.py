"""Usage health: a warning, never a stop, when metering looks incomplete.

The rules live in the dbt marts `rpt_usage_gaps` and `rpt_source_file_quality`
(see their descriptions); this check only reports what they found for the
period, so a gap never blocks billing but is visible on the asset in the UI.
"""

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    MetadataValue,
    asset_check,
)
from dagster_dbt import get_asset_key_for_model

from orchestration.assets.loading import DUCKDB_WRITERS
from orchestration.assets.rating import billing_dbt_models
from orchestration.partitions import billing_periods, period_start_of
from orchestration.resources import BillingWarehouse

RPT_USAGE_GAPS = get_asset_key_for_model([billing_dbt_models], "rpt_usage_gaps")
SHOWN_ROWS = 20

GAPS_QUERY = """
    select customer_id, customer_name, meter_id, cast(usage_date as varchar), gap_kind,
           event_count, baseline_daily_events
    from main.rpt_usage_gaps
    where period_start = ?
    order by usage_date, customer_id, meter_id
"""

FLAGGED_FILES_QUERY = """
    select file_name, row_count, duplicate_rate_percent, quarantine_rate_percent,
           quarantine_reasons
    from main.rpt_source_file_quality
    where is_flagged and loaded_at >= ?
    order by file_name
"""


def _gap_lines(rows: list[tuple]) -> list[str]:
    return [
        f"{day} {customer_id} ({name}) {meter_id}: {kind}, {events} events "
        f"vs a 7-day average of {baseline:.1f}"
        for customer_id, name, meter_id, day, kind, events, baseline in rows
    ]


def _file_lines(rows: list[tuple]) -> list[str]:
    return [
        f"{file_name}: {rows_in_file} rows, {duplicates} % duplicates, "
        f"{quarantined} % quarantined ({reasons or 'no reasons'})"
        for file_name, rows_in_file, duplicates, quarantined, reasons in rows
    ]


@asset_check(
    asset=RPT_USAGE_GAPS,
    name="usage_is_complete",
    blocking=False,
    pool=DUCKDB_WRITERS,
    partitions_def=billing_periods,
    description=(
        "Warns (never blocks billing) when a customer's meter went quiet in the period "
        "(rpt_usage_gaps: a day with no events after 7 steady days, or under 20 % of its "
        "7-day average) or when a landed file had more than 1 % of its rows quarantined "
        "or more than 5 % duplicates (rpt_source_file_quality; files loaded since the "
        "period began). Look at the producer of the named customer or file before "
        "finalizing."
    ),
)
def usage_is_complete(
    context: AssetCheckExecutionContext, warehouse: BillingWarehouse
) -> AssetCheckResult:
    period_start = period_start_of(context.partition_key)
    with warehouse.connect(read_only=True) as conn:
        gaps = conn.execute(GAPS_QUERY, [period_start]).fetchall()
        flagged_files = conn.execute(FLAGGED_FILES_QUERY, [period_start]).fetchall()
    return AssetCheckResult(
        passed=not gaps and not flagged_files,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "gaps": len(gaps),
            "flagged_files": len(flagged_files),
            "first_gaps": MetadataValue.text("\n".join(_gap_lines(gaps[:SHOWN_ROWS]))),
            "flagged_file_details": MetadataValue.text("\n".join(_file_lines(flagged_files))),
        },
    )
