"""The dbt project as Dagster sees it, in a module of its own.

Dagster needs dbt's manifest before the definitions load, and only `dagster dev`
prepares it by itself; `ensure_dbt_manifest` parses the project when the
manifest is missing or older than any model, macro, seed or test file.
"""

import sys
from functools import cached_property
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from dagster_dbt.compat import DBT_PYTHON_VERSION
from packaging.version import Version

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

billing_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

# The dbt installed beside this interpreter, so a console script or pytest run
# from .venv/bin works without the virtualenv on PATH.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))


class BillingDbtCli(DbtCliResource):
    """dbt run from this interpreter's environment.

    dagster-dbt asks the executable for its version (`dbt --version`, ~4 s of
    imports) on every run; the executable here is the installed dbt-core's, so
    its version is known without a subprocess.
    """

    @cached_property
    def _cli_version(self) -> Version:
        if DBT_PYTHON_VERSION is None:
            raise RuntimeError("dbt-core is not installed in this environment")
        return DBT_PYTHON_VERSION


def billing_dbt_cli() -> DbtCliResource:
    return BillingDbtCli(project_dir=billing_dbt_project, dbt_executable=DBT_EXECUTABLE)


_DBT_SOURCE_FOLDERS = ("models", "macros", "seeds", "tests")


def _newest_dbt_source_mtime() -> float:
    files = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for folder in _DBT_SOURCE_FOLDERS:
        files.extend(p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.is_file())
    return max(p.stat().st_mtime for p in files)


def ensure_dbt_manifest() -> Path:
    """Parse the dbt project if its manifest is missing or stale; return the manifest path."""
    manifest = billing_dbt_project.manifest_path
    if not manifest.exists() or manifest.stat().st_mtime < _newest_dbt_source_mtime():
        billing_dbt_cli().cli(
            ["--quiet", "parse"], target_path=billing_dbt_project.target_path
        ).wait()
    return manifest
