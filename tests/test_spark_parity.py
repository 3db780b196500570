"""The dbt project on Apache Spark: every mart row equal to DuckDB's, to the last decimal.

Both engines bill the same inputs with the same dbt commands: the golden
scenarios (their periods in order, each period's files landing before its run,
as in tests/test_scenarios.py) and one month of the sample company. The loaders
validate the inputs into a DuckDB warehouse, as in production; dbt builds that
warehouse (`--target duckdb`), and the same raw tables, landed as Parquet
(loaders/parquet_landing.py), feed `--target spark`: dbt-spark's session mode,
a local Spark. After a deployment's last run, Spark writes every model of its
`main` schema to Parquet, DuckDB reads it back, and each row must equal a row
of the DuckDB mart of the same name, value for value: decimals with their
scale, timestamps in UTC.

Both engines' dbt runs in this process (dbtRunner), and dbt resets its
adapters at each command. DuckDB's runs as the billing run runs it, on the
manifest the process parsed once (tests/dbt_cli.py); Spark's on a parse of
its own per deployment, so that one Spark session serves all of them, its
catalog then holding both deployments, each under its own schema prefix (var
`schema_prefix`). The catalog is kept in memory, not in the `spark` target's
Derby metastore: nothing outlives the session here, and Derby cost 30 s of
the test (~5 s of it measured creating the metastore; the rest, not measured
apart, at the tables the models make). Orchestration (Dagster, PDFs,
exporters) is DuckDB's alone: the periods late events re-rate are found as the
billing run finds them, and each engine re-rates them.

Needs the `spark` extra and Java (`make spark-deps`): skipped without them,
failed under CI.
"""

import importlib.util
import json
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dbt.cli.main import dbtRunner
from dbt.contracts.graph.manifest import Manifest

from data.generate_sample import generate_sample
from exporters.record_tables import ensure_record_tables
from loaders import load_landing_files, load_reference_data
from loaders.parquet_landing import land_raw_tables_as_parquet
from orchestration.assets.rating import REPORTING, periods_with_late_events
from orchestration.project import DBT_PROJECT_DIR
from orchestration.resources import BillingClock, BillingWarehouse
from tests.dbt_cli import dbt_failures, run_dbt
from tests.scenario_inputs import bill_merged_scenarios, runs, scenario_dirs

pytestmark = pytest.mark.spark

MARTS = "main"
# The reporting models each build replaces whole (fct_usage_daily, incremental, keeps
# every period's rows).
REBUILT_REPORTING = f"{REPORTING},config.materialized:table"
SAMPLE_PERIOD = ("2026-08", "2026-11-05T00:00:00Z")
# Each deployment's Spark parse (TwoEngines._spark_manifest), by schema prefix.
_SPARK_PARSES: dict[str, bytes] = {}


def _require_spark() -> None:
    missing = [
        what
        for what, present in (
            ("pyspark and dbt-spark (pip install .[spark])", _spark_installed()),
            ("a Java runtime (OpenJDK 17)", shutil.which("java") is not None),
        )
        if not present
    ]
    if missing:
        message = f"Spark parity needs {' and '.join(missing)}: make spark-deps"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run the Spark parity test")
        pytest.skip(message)


def _spark_installed() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("pyspark", "dbt.adapters.spark"))


@contextmanager
def _environment(**variables: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass(frozen=True)
class TwoEngines:
    """One deployment billed on both engines: DuckDB's warehouse file, where the
    loaders write and DuckDB's dbt builds; Spark's raw Parquet and schema prefix."""

    data_dir: Path
    db_path: Path
    parquet_dir: Path
    spark_dir: Path
    prefix: str
    work_dir: Path

    @property
    def warehouse(self) -> BillingWarehouse:
        return BillingWarehouse(
            data_dir=str(self.data_dir), db_path=str(self.db_path), output_dir=str(self.work_dir)
        )

    def load(self, as_of: str) -> None:
        """What a billing run loads, then the raw tables landed as Parquet for Spark."""
        with self.warehouse.connect() as conn:
            load_reference_data(conn, self.data_dir)
            load_landing_files(conn, self.data_dir, as_of=BillingClock(as_of=as_of).now())
            ensure_record_tables(conn)
            land_raw_tables_as_parquet(conn, self.parquet_dir)

    def bill(self, period: str, as_of: str, *, last: bool, data_tests: bool) -> None:
        """A billing run's dbt commands, on each engine: late periods re-rated, then the
        period. Only a deployment's `last` period builds the reporting tables: each
        build replaces them whole, so only the last one's are compared, and on Spark
        they took 6-7 s of an earlier period's 40 s build. Data tests run only where
        asked (the scenarios' last period, on every period's rows; the per-event
        marts' `*_in_period` tests on the last period's): Spark runs a test in
        about half a second, there are 56, and another deployment's run would
        test the same SQL again on other rows."""
        self.load(as_of)
        commands = [
            [*_dbt_build(late, as_of, tests=False), "--exclude", REPORTING]
            for late in periods_with_late_events(self.warehouse, before=period)
        ]
        build = _dbt_build(period, as_of, tests=data_tests)
        commands.append(build if last else [*build, "--exclude", REBUILT_REPORTING])
        for command in commands:
            self._dbt_duckdb(command)
            self._dbt_spark(command)

    def _dbt_duckdb(self, command: list[str]) -> None:
        result = run_dbt(
            self.db_path,
            self.work_dir / "target-duckdb",
            *command,
            "--target",
            "duckdb",
            "--log-path",
            str(self.work_dir / "logs-duckdb"),
            "--quiet",
        )
        assert result.success, f"dbt {' '.join(command)} on DuckDB: {dbt_failures(result)}"

    def _dbt_spark(self, command: list[str]) -> None:
        with _environment(
            BILLING_SPARK_DIR=str(self.spark_dir),
            BILLING_PARQUET_DIR=str(self.parquet_dir),
            BILLING_SPARK_CATALOG="in-memory",
        ):
            result = dbtRunner(manifest=self._spark_manifest()).invoke(
                [*_with_prefix(command, self.prefix), *self._spark_args()]
            )
        assert result.success, f"dbt {' '.join(command)} on Spark: {dbt_failures(result)}"

    def _spark_manifest(self) -> Manifest:
        """The project parsed for Spark once per deployment, with its schema prefix,
        and copied for each command. dbt parses the whole project again whenever
        `--vars` change, as the period and as-of do at every command: ~2 s each.
        A copy, because a run writes compiled SQL into the manifest's nodes (as in
        orchestration/project.py, where DuckDB's parse is kept the same way)."""
        if self.prefix not in _SPARK_PARSES:
            parse_vars = json.dumps({"schema_prefix": self.prefix})
            parsed = dbtRunner().invoke(["parse", "--vars", parse_vars, *self._spark_args()])
            assert parsed.success, f"dbt parse on Spark: {parsed.exception}"
            _SPARK_PARSES[self.prefix] = parsed.result.to_msgpack()
        return Manifest.from_msgpack(_SPARK_PARSES[self.prefix])

    def _spark_args(self) -> list[str]:
        return [
            "--target",
            "spark",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(self.work_dir / "target-spark"),
            "--log-path",
            str(self.work_dir / "logs-spark"),
            "--quiet",
        ]

    def export_spark_marts(self) -> Path:
        """Every model of Spark's marts schema as Parquet, for DuckDB to read."""
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.getOrCreate()
        spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        exported = self.work_dir / "spark-marts"
        for table in spark.catalog.listTables(f"{self.prefix}{MARTS}"):
            if table.isTemporary:  # dbt-spark's session views of incremental runs
                continue
            spark.table(f"{self.prefix}{MARTS}.{table.name}").write.mode("overwrite").parquet(
                str(exported / table.name)
            )
        return exported


def _dbt_build(period: str, as_of: str, *, tests: bool) -> list[str]:
    """`dbt build` as a billing run calls it (orchestration/assets/rating.py): its period
    and "now"; unit tests excluded, and data tests too unless `tests`."""
    period_vars = {"period": period, "as_of": BillingClock(as_of=as_of).now().isoformat(sep=" ")}
    excluded = ["unit_test"] if tests else ["unit_test", "test"]
    return ["build", "--exclude-resource-type", *excluded, "--vars", json.dumps(period_vars)]


def _with_prefix(command: list[str], prefix: str) -> list[str]:
    at = command.index("--vars")
    period_vars = json.loads(command[at + 1]) | {"schema_prefix": prefix}
    return [*command[:at], "--vars", json.dumps(period_vars), *command[at + 2 :]]


def _two_engines(root: Path, data_dir: Path, spark_dir: Path, prefix: str) -> TwoEngines:
    return TwoEngines(
        data_dir=data_dir,
        db_path=root / "billing.duckdb",
        parquet_dir=root / "parquet",
        spark_dir=spark_dir,
        prefix=prefix,
        work_dir=root,
    )


@pytest.fixture(scope="module")
def spark_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Spark warehouse for the module: the session is made once."""
    _require_spark()
    return tmp_path_factory.mktemp("spark")


@pytest.fixture(scope="module")
def scenarios_on_both(tmp_path_factory: pytest.TempPathFactory, spark_dir: Path):
    root = tmp_path_factory.mktemp("scenarios_parity")
    data_dir = root / "data"
    engines = _two_engines(root, data_dir, spark_dir, "scenarios_")
    last = runs(scenario_dirs())[-1]

    def bill(period: str, as_of: str) -> None:
        is_last = (period, as_of) == last
        engines.bill(period, as_of, last=is_last, data_tests=is_last)

    bill_merged_scenarios(data_dir, bill)
    return engines, engines.export_spark_marts()


@pytest.fixture(scope="module")
def sample_on_both(tmp_path_factory: pytest.TempPathFactory, spark_dir: Path):
    root = tmp_path_factory.mktemp("sample_parity")
    generate_sample(root / "sample")
    engines = _two_engines(root, root / "sample", spark_dir, "sample_")
    engines.bill(*SAMPLE_PERIOD, last=True, data_tests=False)
    return engines, engines.export_spark_marts()


def _canonical(value: object) -> object:
    """A value as compared: decimals as their exact text (scale included), timestamps
    as naive UTC; a float anywhere in a mart is a failure of its own."""
    assert not isinstance(value, float), f"a float in a mart: {value!r}"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        moment = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        return moment.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _mart_rows(conn: duckdb.DuckDBPyConnection, relation: str, columns: list[str]) -> Counter:
    select = ", ".join(f'"{c}"' for c in columns)
    rows = conn.execute(f"select {select} from {relation}").fetchall()
    return Counter(tuple(_canonical(v) for v in row) for row in rows)


def _differences(duckdb_rows: Counter, spark_rows: Counter) -> str:
    only_duckdb = list((duckdb_rows - spark_rows).elements())[:5]
    only_spark = list((spark_rows - duckdb_rows).elements())[:5]
    return f"only on DuckDB: {only_duckdb}\nonly on Spark: {only_spark}"


def _assert_marts_equal(engines: TwoEngines, exported: Path) -> dict[str, int]:
    with duckdb.connect(str(engines.db_path), read_only=True) as conn:
        conn.execute("set TimeZone = 'UTC'")
        marts = sorted(
            row[0]
            for row in conn.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [MARTS],
            ).fetchall()
        )
        assert sorted(p.name for p in exported.iterdir()) == marts
        compared = {}
        for mart in marts:
            columns = [
                row[0]
                for row in conn.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [MARTS, mart],
                ).fetchall()
            ]
            spark_relation = f"read_parquet('{exported / mart}/*.parquet')"
            spark_columns = [
                d[0] for d in conn.execute(f"describe select * from {spark_relation}").fetchall()
            ]
            assert sorted(spark_columns) == sorted(columns), mart
            duckdb_rows = _mart_rows(conn, f'{MARTS}."{mart}"', columns)
            spark_rows = _mart_rows(conn, spark_relation, columns)
            assert duckdb_rows == spark_rows, f"{mart}:\n{_differences(duckdb_rows, spark_rows)}"
            compared[mart] = sum(duckdb_rows.values())
    return compared


def test_golden_scenarios_are_equal_on_spark(scenarios_on_both) -> None:
    compared = _assert_marts_equal(*scenarios_on_both)
    assert compared["fct_invoice_lines"] > 0 and compared["fct_revenue_ledger"] > 0


def test_a_sample_month_is_equal_on_spark(sample_on_both) -> None:
    compared = _assert_marts_equal(*sample_on_both)
    assert compared["fct_invoices"] > 0 and compared["fct_usage_events"] > 0
