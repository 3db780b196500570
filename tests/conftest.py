"""Test-wide setup: no telemetry, the dbt manifest, and no Dagster home.

Runs use real DuckDB files, real `dbt build` and real Dagster materializations,
on Dagster's in-memory instance: the SQLite run history of a Dagster home
opens, commits and closes a database for each of a run's ~500 events, about
12 s of a 30 s run of the tiny company. The tests about that history give
the command a home of their own (`dagster_home`).
"""

import fcntl
import os
import shutil
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# The suite runs in parallel processes (pytest-xdist, `-n auto` in pyproject.toml);
# each parses dbt into a target folder of its own (orchestration/project.py).
if worker := os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["DBT_TARGET_PATH"] = f"target/pytest-{worker}"


# The test files that take longest, longest first: seconds each took on the 2-core
# machine (`pytest --durations=0`, 22 Nov 2026). Under `--dist loadfile` a file is one
# unit of work, handed in this order to whichever process is free, so the long
# files start first and the short ones fill in: the processes finish together.
# (xdist's own order, most tests first, left test_billing_run and
# test_billing_sync to one process: 290 s against the other's 250 s.) A file
# not listed runs after these, in the order collected.
#
# test_invoice_lifecycle and test_sample_pipeline bill companies of their own,
# so they come right after test_billing_sync: while the first process bills the
# tiny company that test_billing_sync and most later files share (`billed`),
# the second works instead of waiting for it (~12 s).
LONGEST_FIRST = (
    "test_billing_sync.py",  # 61
    "test_invoice_lifecycle.py",  # 28
    "test_sample_pipeline.py",  # 23
    "test_billing_run.py",  # 37
    "test_incremental_rating.py",  # 21
    "test_scenarios.py",  # 21
    "test_analytics_marts.py",  # 15
    "test_billing_properties.py",  # 13
    "test_pricing_simulation.py",  # 7
    "test_dagster_definitions.py",  # 5
)
# The Spark parity test (where Spark is installed, as in CI) starts after every
# other file. Alone it takes 2 to 5.5 min, as fast as the machine is that day;
# started first, beside the other tests on two cores, it ended the run:
# .ci/run's tests took 12 min 51 s, against 10 min 5 s with it last. Started
# after the four longest files, it gained nothing (5 min 15 s against 4 min 53 s
# to 5 min 14 s last, 22 Nov 2026): the two processes slow each other down.
# Split in two files, its two deployments side by side in two processes, alone,
# took 3 min 2 s against 2 min 14 s to 2 min 35 s in one process.
LAST = ("test_spark_parity.py",)


def _duration_rank(item: pytest.Item) -> int:
    name = item.path.name
    if name in LAST:
        return len(LONGEST_FIRST) + 1
    return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long files first (LONGEST_FIRST), Spark's last; a file's own tests keep
    their order."""
    items.sort(key=_duration_rank)


def pytest_configure(config: pytest.Config) -> None:
    os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    os.environ.pop("DAGSTER_HOME", None)

    from orchestration.project import ensure_dbt_manifest

    ensure_dbt_manifest()


@pytest.fixture
def dagster_home(tmp_path: Path) -> Path:
    """A Dagster home with the project's instance settings, as `make demo` and `make ui` use."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    return home


@pytest.fixture
def tiny_company(tmp_path: Path) -> Path:
    """A private copy of the hand-computed two-customer company.

    Its invoices are worked out in fixtures/tiny_company/EXPECTED.md."""
    data_dir = tmp_path / "tiny_company"
    shutil.copytree(FIXTURES / "tiny_company", data_dir)
    return data_dir


def _bill_tiny_company(root: Path) -> None:
    """September's file lands and September is finalized as of Oct 5; then October's
    file lands and October is finalized as of Nov 5. Writes `root/data` and `root/output`."""
    from orchestration.runs import Deployment, run_billing_period

    data_dir = root / "data"
    shutil.copytree(FIXTURES / "tiny_company", data_dir)
    october_file = data_dir / "landing" / "events" / "2026-10-usage.jsonl"
    not_yet_landed = october_file.rename(root / october_file.name)
    deployment = Deployment.beside_database(data_dir, root / "output" / "billing.duckdb")
    run_billing_period(deployment, "2026-09", "2026-10-05T00:00:00Z")
    not_yet_landed.rename(october_file)
    run_billing_period(deployment, "2026-10", "2026-11-05T00:00:00Z")


@pytest.fixture(scope="session")
def billed(tmp_path_factory: pytest.TempPathFactory):
    """The tiny company billed as it happens (`_bill_tiny_company`).

    Shared by a process's tests: those that change it restore what they change.
    Under xdist the first process to need it bills it once, under a lock, and
    every process works on a copy of its own (the warehouse keeps no absolute
    paths)."""
    from orchestration.runs import Deployment

    root = tmp_path_factory.mktemp("billed")
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = tmp_path_factory.getbasetemp().parent / "billed-once"
        done = Path(f"{shared}.done")
        with open(f"{shared}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not done.exists():
                shutil.rmtree(shared, ignore_errors=True)
                _bill_tiny_company(shared)
                done.touch()
        shutil.copytree(shared, root, dirs_exist_ok=True)
    else:
        _bill_tiny_company(root)
    return Deployment.beside_database(root / "data", root / "output" / "billing.duckdb")


@pytest.fixture
def billed_warehouse(billed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the billed tiny company's warehouse, the one this process's dbt
    commands use (BILLING_DB)."""
    db = tmp_path / billed.db_path.name
    shutil.copy(billed.db_path, db)
    monkeypatch.setenv("BILLING_DB", str(db))
    return db
