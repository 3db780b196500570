"""Write the validated catalog and reference CSVs to the raw reference tables.

Everything is validated before the first write, and all tables are replaced
in one transaction, so a bad input leaves yesterday's reference data intact
and dbt never sees half of today's.

Inputs unchanged since the last load are not validated again: the load
records their digest (`raw.reference_inputs`) in the same transaction, and a
run that finds the same digest keeps the tables as they are. Validating and
writing 10,000 customers took 0.6-0.8 s, a twelfth of a late re-run at 10M
events; hashing their 1.7 MB takes a few ms. The digest covers the content of
every file directly in the data directory (a reference file added or removed
counts), of this package's code and of the currency list it validates
against: after an upgrade the inputs are validated again by the new rules.
"""

import hashlib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import duckdb

from loaders.catalog import load_catalog
from loaders.catalog_models import Catalog, Charge
from loaders.currencies import CURRENCIES_CSV
from loaders.events import content_hash
from loaders.raw_schema import RAW_SCHEMA, REFERENCE_TABLES, create_table_sql
from loaders.reference_data import ReferenceData, load_reference_files

Row = dict[str, Any]

# What the reference tables are made from besides the data directory's files.
LOADER_SOURCES = (*sorted(Path(__file__).resolve().parent.glob("*.py")), CURRENCIES_CSV)


@dataclass(frozen=True)
class ReferenceSummary:
    """How many rows each reference table holds, and whether this load wrote them
    (False: the inputs were unchanged since the last load)."""

    table_rows: dict[str, int]
    reloaded: bool = True


def _without(record: Any, *nested: str) -> Row:
    return {k: v for k, v in asdict(record).items() if k not in nested}


def _charge_rows(charges: tuple[Charge, ...], owner: Row) -> tuple[list[Row], list[Row]]:
    """Charge and tier rows for one plan version or one override (`owner` keys)."""
    charge_rows, tier_rows = [], []
    for charge in charges:
        charge_rows.append({**owner, **_without(charge, "tiers")})
        tier_rows.extend(
            {**owner, "meter_id": charge.meter_id, **asdict(tier)} for tier in charge.tiers
        )
    return charge_rows, tier_rows


def catalog_rows(catalog: Catalog) -> dict[str, list[Row]]:
    """The catalog flattened: plan charges carry `plan_version`, override charges `customer_id`."""
    charges, tiers = [], []
    for plan in catalog.plans:
        owner = {"plan_id": plan.plan_id, "plan_version": plan.plan_version, "customer_id": None}
        plan_charges, plan_tiers = _charge_rows(plan.charges, owner)
        charges += plan_charges
        tiers += plan_tiers
    for override in catalog.overrides:
        owner = {
            "plan_id": override.plan_id,
            "plan_version": None,
            "customer_id": override.customer_id,
        }
        override_charges, override_tiers = _charge_rows(override.charges, owner)
        charges += override_charges
        tiers += override_tiers
    return {
        "settings": [asdict(catalog.settings)],
        "meters": [_without(meter, "filters") for meter in catalog.meters],
        "meter_filters": [
            {"meter_id": meter.meter_id, **asdict(f)}
            for meter in catalog.meters
            for f in meter.filters
        ],
        "plans": [_without(plan, "charges") for plan in catalog.plans],
        "plan_overrides": [_without(override, "charges") for override in catalog.overrides],
        "plan_charges": charges,
        "charge_tiers": tiers,
    }


def _flat(records: tuple[Any, ...]) -> list[Row]:
    """Flat dataclass records as dicts; `asdict` deep-copies every value, ~0.1 ms a row."""
    names = [f.name for f in fields(records[0])] if records else []
    return [{name: getattr(record, name) for name in names} for record in records]


def reference_rows(reference: ReferenceData) -> dict[str, list[Row]]:
    return {
        "customers": _flat(reference.customers),
        "subscriptions": _flat(reference.subscriptions),
        "credit_grants": _flat(reference.credit_grants),
        "discounts": _flat(reference.discounts),
        "usage_limits": _flat(reference.usage_limits),
    }


def _as_text(value: Any) -> str | None:
    """A value as the text DuckDB casts back exactly (Decimal, date, naive datetime, int, str)."""
    return None if value is None else str(value)


def _insert(conn: duckdb.DuckDBPyConnection, table: str, rows: list[Row]) -> None:
    """Insert rows after checking they carry exactly the table's columns (the dbt contract).

    One statement per table: each column travels as one list of text and the
    insert casts it to the column's type. `executemany` took ~1 ms a row
    (~10 s for 10,000 customers and their subscriptions); text keeps Decimals
    exact where a DataFrame would guess their type.
    """
    columns = [
        d[0] for d in conn.execute(f"select * from {RAW_SCHEMA}.{table} limit 0").description
    ]
    for row in rows:
        if sorted(row) != sorted(columns):
            raise RuntimeError(f"rows for {RAW_SCHEMA}.{table} do not match its columns {columns}")
    if rows:
        unnested = ", ".join(f"unnest(${i + 1}::varchar[])" for i in range(len(columns)))
        conn.execute(
            f"insert into {RAW_SCHEMA}.{table} ({', '.join(columns)}) select {unnested}",
            [[_as_text(row[c]) for row in rows] for c in columns],
        )


def reference_inputs_digest(data_dir: Path) -> str:
    """One SHA-256 of every input of the reference tables (the module docstring lists them)."""
    digest = hashlib.sha256()
    files = sorted(p for p in data_dir.iterdir() if p.is_file()) if data_dir.is_dir() else []
    for path in [*LOADER_SOURCES, *files]:
        digest.update(f"{path.name}:{content_hash(path)}\n".encode())
    return digest.hexdigest()


def _loaded_digest(conn: duckdb.DuckDBPyConnection) -> str | None:
    """The digest of the last load, if it and every reference table are there."""
    present = conn.execute(
        "select count(*) from information_schema.tables where table_schema = ? "
        "and table_name in (select unnest(?))",
        [RAW_SCHEMA, [*REFERENCE_TABLES, "reference_inputs"]],
    ).fetchone()[0]
    if present < len(REFERENCE_TABLES) + 1:
        return None
    row = conn.execute(f"select digest from {RAW_SCHEMA}.reference_inputs").fetchone()
    return row[0] if row else None


def _row_counts(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {
        name: conn.execute(f"select count(*) from {RAW_SCHEMA}.{name}").fetchone()[0]
        for name in REFERENCE_TABLES
    }


def load_reference_data(conn: duckdb.DuckDBPyConnection, data_dir: Path) -> ReferenceSummary:
    """Validate `catalog.yml` and the reference CSVs, then replace the raw reference tables,
    unless the inputs are those of the last load.

    Raises `InputError` before touching the database if any input is invalid.
    """
    digest = reference_inputs_digest(data_dir)
    if _loaded_digest(conn) == digest:
        return ReferenceSummary(table_rows=_row_counts(conn), reloaded=False)
    catalog = load_catalog(data_dir / "catalog.yml")
    tables = catalog_rows(catalog) | reference_rows(load_reference_files(data_dir, catalog))
    conn.execute("begin transaction")
    try:
        conn.execute(f"create schema if not exists {RAW_SCHEMA}")
        for name, columns in REFERENCE_TABLES.items():
            conn.execute(create_table_sql(name, columns, replace=True))
            _insert(conn, name, tables[name])
        conn.execute(
            f"create or replace table {RAW_SCHEMA}.reference_inputs as select ? as digest",
            [digest],
        )
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    return ReferenceSummary(table_rows={name: len(rows) for name, rows in tables.items()})
