"""Load assets: validated reference data, then new landing files, into DuckDB's `raw` schema.

Each raw table is its own asset key (`raw/<table>`, as dbt names its sources),
produced by the one loader that writes it.
"""

from pathlib import Path

from dagster import AssetExecutionContext, AssetSpec, MaterializeResult, multi_asset

from loaders import load_landing_files, load_reference_data
from loaders.raw_schema import EVENT_TABLES, RAW_SCHEMA, REFERENCE_TABLES
from orchestration.partitions import ONE_PERIOD_PER_RUN, billing_periods
from orchestration.resources import BillingClock, BillingWarehouse

# Every asset that opens the DuckDB file runs in this pool; its limit is 1
# (orchestration/dagster.yaml), as DuckDB allows one writing process at a time.
DUCKDB_WRITERS = "duckdb_writers"

# The reference tables the event loader validates against.
EVENT_VALIDATION_INPUTS = ("settings", "customers", "meters", "subscriptions")


def _raw_key(table: str) -> list[str]:
    return [RAW_SCHEMA, table]


@multi_asset(
    name="reference_data",
    specs=[AssetSpec(_raw_key(table), group_name="load") for table in REFERENCE_TABLES],
    partitions_def=billing_periods,
    pool=DUCKDB_WRITERS,
    backfill_policy=ONE_PERIOD_PER_RUN,
    description=(
        "catalog.yml and the reference CSVs, validated as a whole, "
        "then replaced in one transaction; kept while the inputs are unchanged."
    ),
)
def reference_data(context: AssetExecutionContext, warehouse: BillingWarehouse):
    with warehouse.connect() as conn:
        summary = load_reference_data(conn, Path(warehouse.data_dir))
    if not summary.reloaded:
        context.log.info("reference inputs unchanged since their last load: tables kept")
    for table, rows in summary.table_rows.items():
        yield MaterializeResult(
            asset_key=_raw_key(table), metadata={"rows": rows, "reloaded": summary.reloaded}
        )


@multi_asset(
    name="usage_events",
    specs=[
        AssetSpec(
            _raw_key(table),
            group_name="load",
            deps=[_raw_key(t) for t in EVENT_VALIDATION_INPUTS],
        )
        for table in EVENT_TABLES
    ],
    partitions_def=billing_periods,
    pool=DUCKDB_WRITERS,
    backfill_policy=ONE_PERIOD_PER_RUN,
    description=(
        "New landing files loaded exactly once each: every row loaded, counted as a "
        "duplicate, or quarantined with a reason."
    ),
)
def usage_events(context: AssetExecutionContext, warehouse: BillingWarehouse, clock: BillingClock):
    with warehouse.connect() as conn:
        results = load_landing_files(conn, Path(warehouse.data_dir), as_of=clock.now())
    loaded = [r for r in results if not r.skipped]
    for result in loaded:
        context.log.info(
            f"{result.file_name}: {result.row_count} rows = {result.loaded_count} loaded "
            f"+ {result.duplicate_count} duplicates + {result.quarantined_count} quarantined"
        )
    counts = {
        "usage_events": sum(r.loaded_count for r in loaded),
        "duplicate_events": sum(r.duplicate_count for r in loaded),
        "quarantined_events": sum(r.quarantined_count for r in loaded),
        "landed_files": len(loaded),
    }
    for table in EVENT_TABLES:
        yield MaterializeResult(asset_key=_raw_key(table), metadata={"new_rows": counts[table]})
