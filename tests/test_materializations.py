"""The project's table and view materializations on DuckDB
(dbt_project/macros/replace_in_place.sql): a model's relation is replaced in one
statement, and a relation of the other kind under the model's name, left by a
model that was a view and is now a table or the other way round, gives way.
"""

import json
from pathlib import Path

import duckdb
from dbt_common.events.base_types import EventMsg

from tests.dbt_cli import dbt_failures, run_dbt

# The tiny company's October as the `billed` fixture last built it.
OCTOBER = {"period": "2026-10", "as_of": "2026-11-05T00:00:00Z"}
A_VIEW = "staging.stg_customers"
A_TABLE = "intermediate.int_invoice_charges_rounded"


def _kind_and_rows(conn: duckdb.DuckDBPyConnection, relation: str) -> tuple[str, set[tuple]]:
    schema, name = relation.split(".")
    (kind,) = conn.execute(
        "select table_type from information_schema.tables "
        "where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return kind, set(conn.execute(f"select * from {relation}").fetchall())


def _run_the_two_models(warehouse: Path, target: Path) -> list[EventMsg]:
    """`dbt run` of A_VIEW's and A_TABLE's models for October; returns dbt's events."""
    events: list[EventMsg] = []
    done = run_dbt(
        warehouse,
        target,
        "run",
        "--select",
        "stg_customers",
        "int_invoice_charges_rounded",
        "--vars",
        json.dumps(OCTOBER),
        callbacks=[events.append],
    )
    assert done.success, dbt_failures(done)
    return events


def test_a_relation_of_the_other_kind_gives_way_to_the_models(
    billed_warehouse: Path, tmp_path: Path
) -> None:
    with duckdb.connect(str(billed_warehouse)) as conn:
        built = {relation: _kind_and_rows(conn, relation) for relation in (A_VIEW, A_TABLE)}
        conn.execute(f"create table staging.customers_kept as select * from {A_VIEW}")
        conn.execute(f"drop view {A_VIEW}")
        conn.execute("alter table staging.customers_kept rename to stg_customers")
        conn.execute(f"alter table {A_TABLE} rename to charges_kept")
        conn.execute(f"create view {A_TABLE} as select * from intermediate.charges_kept")
        swapped = {relation: _kind_and_rows(conn, relation)[0] for relation in built}
    assert swapped == {A_VIEW: "BASE TABLE", A_TABLE: "VIEW"}

    _run_the_two_models(billed_warehouse, tmp_path / "target")

    with duckdb.connect(str(billed_warehouse), read_only=True) as conn:
        rebuilt = {relation: _kind_and_rows(conn, relation) for relation in built}
    assert {relation: kind for relation, (kind, _) in rebuilt.items()} == {
        A_VIEW: "VIEW",
        A_TABLE: "BASE TABLE",
    }
    assert rebuilt == built


def test_a_table_and_a_view_are_each_replaced_by_one_statement(
    billed_warehouse: Path, tmp_path: Path
) -> None:
    """No create under another name, rename or drop: dbt-duckdb's seven statements
    cost dbt far more than DuckDB (the macro's docstring)."""
    statements: dict[str, list[str]] = {}
    for event in _run_the_two_models(billed_warehouse, tmp_path / "target"):
        if event.info.name == "SQLQuery" and event.data.node_info.unique_id:
            sql = " ".join(event.data.sql.split("*/")[-1].split())
            statements.setdefault(event.data.node_info.node_name, []).append(sql[:40])
    # Before the transaction, only dbt-duckdb's own lookups of the catalog's keys.
    assert not [
        sql for sqls in statements.values() for sql in sqls if sql.startswith(("alter", "drop"))
    ]
    assert {node: sqls[sqls.index("BEGIN") :] for node, sqls in statements.items()} == {
        "stg_customers": ["BEGIN", 'create or replace view "billing"."stagin', "COMMIT"],
        "int_invoice_charges_rounded": [
            "BEGIN",
            'create or replace table "billing"."inter',
            "COMMIT",
        ],
    }
