"""Stage a candidate catalog for simulation, reusing the loaders unchanged.

The candidate is validated exactly as a real catalog is: `load_reference_data`
runs on a scratch DuckDB file holding the candidate as `catalog.yml` and the
deployment's reference CSVs. Its raw tables are then copied into the
warehouse's `sim_raw` schema, and the usage tables there are views on the real
`raw` ones: the events are shared, never copied, and never written.
"""

import shutil
import tempfile
from pathlib import Path

import duckdb

from loaders import InputError, load_reference_data
from loaders.event_sources import sql_literal
from loaders.raw_schema import EVENT_TABLES, RAW_SCHEMA, REFERENCE_TABLES

SIM_SCHEMA_PREFIX = "sim_"
SIM_RAW_SCHEMA = f"{SIM_SCHEMA_PREFIX}{RAW_SCHEMA}"
# The schemas a simulated dbt run writes: every layer's, prefixed (see generate_schema_name).
SIM_SCHEMAS = tuple(
    f"{SIM_SCHEMA_PREFIX}{layer}"
    for layer in (RAW_SCHEMA, "staging", "intermediate", "main", "reference")
)
REFERENCE_CSVS = ("customers", "subscriptions", "credit_grants", "discounts", "usage_limits")


def drop_simulation_schemas(conn: duckdb.DuckDBPyConnection) -> None:
    """Start from nothing: a simulation's incremental models must not see an earlier one."""
    for schema in SIM_SCHEMAS:
        conn.execute(f"drop schema if exists {schema} cascade")


def _reference_inputs(conn: duckdb.DuckDBPyConnection, data_dir: Path | None, into: Path) -> None:
    """The reference CSVs: the deployment's files, or else the warehouse's raw tables."""
    for name in REFERENCE_CSVS:
        if data_dir is not None:
            if (data_dir / f"{name}.csv").exists():
                shutil.copy(data_dir / f"{name}.csv", into / f"{name}.csv")
        else:
            target = sql_literal(str(into / f"{name}.csv"))
            conn.execute(f"copy {RAW_SCHEMA}.{name} to {target} (header, delimiter ',')")


def stage_candidate(
    conn: duckdb.DuckDBPyConnection, candidate_catalog: Path, data_dir: Path | None = None
) -> dict[str, int]:
    """Validate the candidate and write schema sim_raw; return the rows per reference table.

    Raises the loaders' `InputError` (naming file, row or key) on a bad candidate,
    before anything in the warehouse changes.
    """
    if not candidate_catalog.exists():
        raise ValueError(f"{candidate_catalog}: no such candidate catalog")
    with tempfile.TemporaryDirectory(prefix="billing-candidate-") as scratch:
        inputs = Path(scratch) / "inputs"
        inputs.mkdir()
        shutil.copy(candidate_catalog, inputs / "catalog.yml")
        _reference_inputs(conn, data_dir, inputs)
        scratch_db = Path(scratch) / "candidate.duckdb"
        with duckdb.connect(str(scratch_db)) as candidate:
            try:
                summary = load_reference_data(candidate, inputs)
            except InputError as error:
                raise InputError(
                    f"candidate {candidate_catalog} (as catalog.yml): {error}"
                ) from None
        drop_simulation_schemas(conn)
        conn.execute(f"create schema {SIM_RAW_SCHEMA}")
        conn.execute(f"attach {sql_literal(str(scratch_db))} as candidate (read_only)")
        try:
            for table in REFERENCE_TABLES:
                conn.execute(
                    f"create table {SIM_RAW_SCHEMA}.{table} as "
                    f"select * from candidate.{RAW_SCHEMA}.{table}"
                )
        finally:
            conn.execute("detach candidate")
    for table in EVENT_TABLES:
        conn.execute(f"create view {SIM_RAW_SCHEMA}.{table} as select * from {RAW_SCHEMA}.{table}")
    return summary.table_rows
