"""Test-wide setup: no telemetry, a throwaway Dagster home, and the dbt manifest.

Runs use real DuckDB files, real `dbt build` and real Dagster materializations.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


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
