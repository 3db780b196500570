"""The dbt models, one partition (billing period) per run.

The period and the run's as-of time reach dbt as vars; dbt tests run as asset
checks. Unit tests are excluded here: they prove the models, not the data, and
run in the test suite.
"""

import json
import os
from collections.abc import Iterator
from typing import Any

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.assets.loading import DUCKDB_WRITERS
from orchestration.partitions import ONE_PERIOD_PER_RUN, billing_periods, period_of
from orchestration.project import billing_dbt_project
from orchestration.resources import BillingClock, BillingWarehouse


def dbt_vars_for(partition_key: str, clock: BillingClock) -> dict[str, str]:
    return {"period": period_of(partition_key), "as_of": clock.now().isoformat(sep=" ")}


@dbt_assets(
    manifest=billing_dbt_project.manifest_path,
    project=billing_dbt_project,
    partitions_def=billing_periods,
    pool=DUCKDB_WRITERS,
    backfill_policy=ONE_PERIOD_PER_RUN,
)
def billing_dbt_models(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: BillingWarehouse,
    clock: BillingClock,
) -> Iterator[Any]:
    # The dbt profile reads the DuckDB path from BILLING_DB; the subprocess inherits it.
    os.environ["BILLING_DB"] = str(warehouse.db_path)
    dbt_vars = dbt_vars_for(context.partition_key, clock)
    args = ["build", "--exclude-resource-type", "unit_test", "--vars", json.dumps(dbt_vars)]
    yield from dbt.cli(args, context=context).stream()
