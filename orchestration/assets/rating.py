"""The dbt models, one partition (billing period) per run, in two steps.

`billing_dbt_models` rates the period and drafts, freezes and numbers its
invoices. `reporting_dbt_models` (models tagged `reporting`: the invoices'
lifecycle status, the revenue ledger, revenue recognition, reconciliation)
reads what the exporters did too, so it runs after them when both are in a run.
(One dbt asset for both would make Dagster split it into a step per level of
the graph around the exporters: five dbt processes per run instead of two.)

The period and the run's as-of time reach dbt as vars; dbt tests run as asset
checks. Unit tests are excluded here: they prove the models, not the data, and
run in the test suite.
"""

import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

from dagster import AssetExecutionContext
from dagster_dbt import build_dbt_asset_selection, dbt_assets, get_asset_key_for_model
from dagster_dbt.asset_utils import get_manifest_and_translator_from_dbt_assets

from exporters.record_tables import ensure_record_tables
from orchestration.assets.loading import DUCKDB_WRITERS
from orchestration.dbt_runner import BillingDbt
from orchestration.partitions import ONE_PERIOD_PER_RUN, billing_periods, period_of
from orchestration.project import billing_dbt_project
from orchestration.resources import BillingClock, BillingWarehouse

REPORTING = "tag:reporting"
# Finalized periods with loaded events that their last run did not see: the
# events that arrived late (SPEC rule 10). Counted per period, because loading
# only ever adds events and fct_usage_events holds what each run rated.
_PERIODS_WITH_LATE_EVENTS = """
    with loaded as (
        select cast(date_trunc('month', event_timestamp) as date) as period_start,
               count(*) as events
        from raw.usage_events
        group by 1
    ),
    rated as (
        select period_start, count(*) as events
        from main.fct_usage_events
        group by 1
    ),
    finalized as (
        select distinct period_start from main.fct_invoice_register where status = 'finalized'
    )
    select strftime(finalized.period_start, '%Y-%m')
    from finalized
    join loaded using (period_start)
    left join rated using (period_start)
    where finalized.period_start < ? and loaded.events <> coalesce(rated.events, 0)
    order by 1
"""


def _dbt_vars(period: str, clock: BillingClock) -> str:
    return json.dumps({"period": period, "as_of": clock.now().isoformat(sep=" ")})


def _build_args(period: str, clock: BillingClock) -> list[str]:
    return ["build", "--exclude-resource-type", "unit_test", "--vars", _dbt_vars(period, clock)]


def periods_with_late_events(warehouse: BillingWarehouse, before: str) -> list[str]:
    """Finalized periods before `before` (YYYY-MM) that late events have changed."""
    with warehouse.connect(read_only=True) as conn:
        marts = {
            row[0]
            for row in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'main'"
            ).fetchall()
        }
        if not {"fct_usage_events", "fct_invoice_register"} <= marts:
            return []
        rows = conn.execute(_PERIODS_WITH_LATE_EVENTS, [f"{before}-01"]).fetchall()
    return [row[0] for row in rows]


def period_tables_read_by_reporting(manifest: Mapping[str, Any]) -> list[str]:
    """The intermediate tables the reporting models and their tests read,
    directly or through other tables and views.

    They are compiled for one period: after a rating run of another period they
    hold that one's rows. Models that keep every period (incremental, period
    batches) are not followed: the reporting models read their rows of any
    period, and what made those rows (the rating chain behind the invoice lines)
    is not rebuilt. The views (staging, quarantined_events) are the same for
    every period, as a test checks."""
    nodes, parents = manifest["nodes"], manifest["parent_map"]

    def rebuilt_every_run(unique_id: str) -> bool:
        node = nodes.get(unique_id)
        return node is not None and node["config"]["materialized"] in ("table", "view")

    reporting = {
        unique_id
        for unique_id, node in nodes.items()
        if node["resource_type"] == "model" and "reporting" in node["tags"]
    }
    tests = [
        unique_id
        for unique_id, node in nodes.items()
        if node["resource_type"] == "test" and reporting & set(node["depends_on"]["nodes"])
    ]
    to_visit = [*reporting, *tests]
    read: set[str] = set()
    while to_visit:
        for parent in parents[to_visit.pop()]:
            if parent not in read and rebuilt_every_run(parent):
                read.add(parent)
                to_visit.append(parent)
    return sorted(
        nodes[unique_id]["name"]
        for unique_id in read
        if nodes[unique_id]["fqn"][1] == "intermediate"
        and nodes[unique_id]["config"]["materialized"] == "table"
    )


def prepare_warehouse_records(warehouse: BillingWarehouse) -> None:
    with warehouse.connect() as conn:
        ensure_record_tables(conn)


@dbt_assets(
    manifest=billing_dbt_project.manifest_path,
    project=billing_dbt_project,
    exclude=REPORTING,
    partitions_def=billing_periods,
    pool=DUCKDB_WRITERS,
    backfill_policy=ONE_PERIOD_PER_RUN,
)
def billing_dbt_models(
    context: AssetExecutionContext,
    dbt: BillingDbt,
    warehouse: BillingWarehouse,
    clock: BillingClock,
) -> Iterator[Any]:
    # The dbt profile reads the DuckDB path from BILLING_DB.
    os.environ["BILLING_DB"] = str(warehouse.db_path)
    prepare_warehouse_records(warehouse)
    period = period_of(context.partition_key)
    # Rule 10: re-rate each finalized period late events changed, so this
    # period's invoices bill the difference. Frozen invoices stay as they are.
    for late_period in periods_with_late_events(warehouse, before=period):
        context.log.info(f"re-rating {late_period}: events arrived after it was finalized")
        rerate = [*_build_args(late_period, clock), "--exclude", REPORTING]
        dbt.run(rerate)
    yield from dbt.build(context, _build_args(period, clock))


# The exporters read the register; its materialization in a run means the rating ran.
INVOICE_REGISTER = get_asset_key_for_model([billing_dbt_models], "fct_invoice_register")


def _rated_in_this_run(context: AssetExecutionContext) -> bool:
    latest = context.instance.get_latest_materialization_event(INVOICE_REGISTER)
    return latest is not None and latest.run_id == context.run_id


@dbt_assets(
    manifest=billing_dbt_project.manifest_path,
    project=billing_dbt_project,
    select=REPORTING,
    name="reporting_dbt_models",
    partitions_def=billing_periods,
    pool=DUCKDB_WRITERS,
    backfill_policy=ONE_PERIOD_PER_RUN,
)
def reporting_dbt_models(
    context: AssetExecutionContext,
    dbt: BillingDbt,
    warehouse: BillingWarehouse,
    clock: BillingClock,
) -> Iterator[Any]:
    os.environ["BILLING_DB"] = str(warehouse.db_path)
    prepare_warehouse_records(warehouse)
    period = period_of(context.partition_key)
    if not _rated_in_this_run(context):
        # Run on its own (after a sync or a credit note), perhaps for another period
        # than the last rating run: the intermediate tables it reads hold that run's
        # period, so they are rebuilt for this one first.
        manifest, _, _ = get_manifest_and_translator_from_dbt_assets([context.assets_def])
        if tables := period_tables_read_by_reporting(manifest):
            dbt.run(["run", "--select", *tables, "--vars", _dbt_vars(period, clock)])
    yield from dbt.build(context, _build_args(period, clock))


# What a booking rebuilds: the reporting models that read the records syncs and
# credit notes write (sources `sync` and `finance`): invoice status, the ledger,
# revenue recognition, reconciliation, and the MRR and customer marts built on
# them. The usage-only analytics marts read nothing a booking changes; they stay
# as the last rating run left them.
BOOKED_REPORTING = build_dbt_asset_selection(
    [reporting_dbt_models], dbt_select="source:sync+ source:finance+"
)
