"""Land the raw tables as Parquet, where Spark reads them (the dbt `spark` target).

The loaders validate inputs into DuckDB's `raw` schema (loaders/raw_schema.py);
the exporters and commands keep their records in `raw` and `sync`. Every dbt
source is one of those tables. For the Spark target this module copies each of
them to `<target_dir>/<schema>/<table>/`, one Parquet file per table, and the
dbt macro `register_parquet_sources` (macros/sources.sql) declares them as
Spark tables over those folders at the start of every Spark run.

Decimals keep their declared precision and scale. DuckDB's naive `TIMESTAMP`
(UTC by our rule) would land as Parquet's local-time timestamp, which Spark
reads as `TIMESTAMP_NTZ`; each one is written as a UTC instant instead, which
Spark reads as `TIMESTAMP` in its session time zone, pinned to UTC.
"""

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from loaders.raw_schema import RAW_SCHEMA

# The schemas dbt reads as sources: the loaders' and finance's `raw`, the exporters' `sync`.
SOURCE_SCHEMAS = (RAW_SCHEMA, "sync")


@dataclass(frozen=True)
class LandedTable:
    schema: str
    table: str
    rows: int
    path: Path


def _column_sql(name: str, data_type: str) -> str:
    quoted = f'"{name}"'
    if data_type == "TIMESTAMP":
        return f"timezone('UTC', {quoted}) as {quoted}"
    return quoted


def _source_tables(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    placeholders = ", ".join("?" for _ in SOURCE_SCHEMAS)
    return conn.execute(
        "select table_schema, table_name from information_schema.tables "
        f"where table_schema in ({placeholders}) and table_type = 'BASE TABLE' "
        "order by table_schema, table_name",
        list(SOURCE_SCHEMAS),
    ).fetchall()


def land_table(
    conn: duckdb.DuckDBPyConnection, schema: str, table: str, target_dir: Path
) -> LandedTable:
    """Replace `<target_dir>/<schema>/<table>/` with the table as one Parquet file.

    The file is written beside the folder and moved into place, so a reader
    never sees a folder without its file."""
    columns = conn.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    select_list = ", ".join(_column_sql(name, data_type) for name, data_type in columns)
    folder = target_dir / schema / table
    staging = target_dir / schema / f".{table}.landing"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    conn.execute(
        f'copy (select {select_list} from "{schema}"."{table}") '
        f"to '{staging / 'part-00000.parquet'}' (format parquet)"
    )
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    (rows,) = conn.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
    return LandedTable(schema=schema, table=table, rows=rows, path=folder)


def land_raw_tables_as_parquet(
    conn: duckdb.DuckDBPyConnection, target_dir: Path
) -> list[LandedTable]:
    """Land every table of the source schemas (`raw`, `sync`) under `target_dir`."""
    return [land_table(conn, schema, table, target_dir) for schema, table in _source_tables(conn)]
