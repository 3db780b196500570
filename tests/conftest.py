"""Test-wide setup: no telemetry, a throwaway Dagster home, and the dbt manifest.

Runs use real DuckDB files, real `dbt build` and real Dagster materializations.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The dbt command line installed beside this interpreter, for tests that run dbt on its own.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))


def pytest_configure(config: pytest.Config) -> None:
    os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    dagster_home = Path(tempfile.mkdtemp(prefix="billing-dagster-home-"))
    shutil.copy(PROJECT_ROOT / "orchestration" / "dagster.yaml", dagster_home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(dagster_home)

    from orchestration.project import ensure_dbt_manifest

    ensure_dbt_manifest()


@pytest.fixture
def tiny_company(tmp_path: Path) -> Path:
    """A private copy of the hand-computed two-customer company.

    Its invoices are worked out in fixtures/tiny_company/EXPECTED.md."""
    data_dir = tmp_path / "tiny_company"
    shutil.copytree(FIXTURES / "tiny_company", data_dir)
    return data_dir


@pytest.fixture(scope="session")
def billed(tmp_path_factory: pytest.TempPathFactory):
    """The tiny company billed as it happens: September's file lands and September is
    finalized as of Oct 5; then October's file lands and October is finalized as of Nov 5.

    Shared by the tests: those that change it restore what they change."""
    from orchestration.runs import Deployment, run_billing_period

    root = tmp_path_factory.mktemp("billed")
    data_dir = root / "data"
    shutil.copytree(FIXTURES / "tiny_company", data_dir)
    october_file = data_dir / "landing" / "events" / "2026-10-usage.jsonl"
    not_yet_landed = october_file.rename(root / october_file.name)
    deployment = Deployment.beside_database(data_dir, root / "output" / "billing.duckdb")
    run_billing_period(deployment, "2026-09", "2026-10-05T00:00:00Z")
    not_yet_landed.rename(october_file)
    run_billing_period(deployment, "2026-10", "2026-11-05T00:00:00Z")
    return deployment
