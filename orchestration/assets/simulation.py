"""Pricing simulation: the same dbt models, a candidate catalog, separate schemas.

The candidate is staged in schema sim_raw (exporters/simulation); each period
is then rated by dbt with var schema_prefix=sim_ and raw_schema=sim_raw, as a
draft (as-of just before the period ends, so nothing finalizes), selecting only
what invoices need (+fct_invoices). Nothing in the real schemas is written
except the result tables in schema `simulation`.
"""

import json
import os
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from dagster import AssetExecutionContext, Config, MaterializeResult, MetadataValue, asset

from exporters.simulation import (
    SIM_RAW_SCHEMA,
    SIM_SCHEMA_PREFIX,
    compare_revenue,
    save_comparison,
    stage_candidate,
    write_reports,
)
from orchestration.assets.loading import DUCKDB_WRITERS
from orchestration.dbt_runner import BillingDbt
from orchestration.partitions import partition_key_of, periods_in
from orchestration.resources import BillingWarehouse


class PricingSimulationConfig(Config):
    candidate: str
    periods: str
    threshold_percent: float = 10.0


def simulation_dbt_vars(period: str) -> dict[str, str]:
    """A period re-rated in the sim_ schemas, as of one second before it ends: a draft."""
    start = datetime.fromisoformat(partition_key_of(period))
    period_end = datetime(start.year + start.month // 12, start.month % 12 + 1, 1)
    return {
        "period": period,
        "as_of": (period_end - timedelta(seconds=1)).isoformat(sep=" "),
        "schema_prefix": SIM_SCHEMA_PREFIX,
        "raw_schema": SIM_RAW_SCHEMA,
    }


@asset(
    pool=DUCKDB_WRITERS,
    group_name="analytics",
    description=(
        "Re-rates the chosen periods under a candidate catalog (same dbt models, schemas "
        "sim_*) and compares with what was invoiced, per customer and plan: table "
        "simulation.pricing_comparison, CSV and HTML report in <output>/simulation/."
    ),
)
def pricing_simulation(
    context: AssetExecutionContext,
    config: PricingSimulationConfig,
    dbt: BillingDbt,
    warehouse: BillingWarehouse,
) -> MaterializeResult:
    periods = periods_in(config.periods)
    candidate = Path(config.candidate)
    with warehouse.connect() as conn:
        stage_candidate(conn, candidate, Path(warehouse.data_dir) if warehouse.data_dir else None)
    os.environ["BILLING_DB"] = str(warehouse.db_path)
    for period in periods:
        context.log.info(f"re-rating {period} under {candidate.name}")
        args = [
            "build",
            "--select",
            "+fct_invoices",
            "--exclude-resource-type",
            "test",
            "unit_test",
            "--vars",
            json.dumps(simulation_dbt_vars(period)),
        ]
        dbt.run(args)
    threshold = Decimal(str(config.threshold_percent))
    with warehouse.connect() as conn:
        comparison = compare_revenue(conn, periods, threshold)
        save_comparison(conn, comparison)
    report = write_reports(comparison, Path(warehouse.output_dir) / "simulation", candidate.name)
    flagged = [r for r in comparison.customers if r.pays_more_than_threshold]
    return MaterializeResult(
        metadata={
            "periods": ", ".join(periods),
            "customers_paying_more": len(flagged),
            "report": MetadataValue.path(str(report)),
            "by_plan": MetadataValue.md(
                "\n".join(
                    ["| plan | current | candidate | change |", "| --- | --- | --- | --- |"]
                    + [
                        f"| {p.plan_id} | {p.current_revenue} | {p.candidate_revenue} "
                        f"| {p.percent_change} % |"
                        for p in comparison.plans
                    ]
                )
            ),
        }
    )
