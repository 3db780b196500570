"""The dbt project as Dagster sees it, in a module of its own.

Dagster needs dbt's manifest before the definitions load, and only `dagster dev`
prepares it by itself; `ensure_dbt_manifest` parses the project when the
manifest is missing or older than any model, macro, seed or test file.
"""

from pathlib import Path

from dagster_dbt import DbtProject
from dbt.cli.main import dbtRunner
from dbt.contracts.graph.manifest import Manifest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

billing_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

_DBT_SOURCE_FOLDERS = ("models", "macros", "seeds", "tests")


def newest_dbt_source_mtime() -> float:
    files = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for folder in _DBT_SOURCE_FOLDERS:
        files.extend(p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.is_file())
    return max(p.stat().st_mtime for p in files)


def dbt_project_args(target_path: Path) -> list[str]:
    """The project, profile and artifact folder of a dbt command."""
    return [
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target_path),
    ]


def parse_dbt_project(target_path: Path, dbt_vars: str | None = None) -> Manifest:
    """dbt's manifest of the project, parsed in-process (no dbt process to start),
    written with dbt's partial-parse state to `target_path`."""
    args = ["parse", "--quiet", *dbt_project_args(target_path)]
    if dbt_vars:
        args += ["--vars", dbt_vars]
    result = dbtRunner().invoke(args)
    if not result.success:
        raise RuntimeError(f"dbt parse failed: {result.exception}")
    return result.result


def ensure_dbt_manifest() -> Path:
    """Parse the dbt project if its manifest is missing or stale; return the manifest path."""
    manifest = billing_dbt_project.manifest_path
    if not manifest.exists() or manifest.stat().st_mtime < newest_dbt_source_mtime():
        parse_dbt_project(billing_dbt_project.target_path)
    return manifest
