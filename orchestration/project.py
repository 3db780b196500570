"""The dbt project as Dagster sees it, in a module of its own.

Dagster needs dbt's manifest before the definitions load, and only `dagster dev`
prepares it by itself; `ensure_dbt_manifest` parses the project when the
manifest is missing or older than any model, macro, seed or test file.
"""

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster_dbt import DbtProject
from dbt.cli.main import dbtRunner
from dbt.contracts.graph.manifest import Manifest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

# dbt's own DBT_TARGET_PATH moves the manifest and parse state, e.g. one folder per
# test process, so that parallel parses never write over each other.
billing_dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target_path=os.environ.get("DBT_TARGET_PATH", "target"),
)

_DBT_SOURCE_FOLDERS = ("models", "macros", "seeds", "tests")
# Where the parse is told the warehouse is; nothing is ever written there.
PARSE_STAND_IN_DIR = Path("/dbt-parse-opens-no-warehouse")


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


def _parse_target_path(parse_vars: Mapping[str, Any]) -> Path:
    """The project's own target folder for the default parse (the manifest Dagster
    loads), a folder per set of schema vars otherwise, so neither overwrites the other."""
    if not parse_vars:
        return billing_dbt_project.target_path
    digest = hashlib.sha256(json.dumps(parse_vars, sort_keys=True).encode()).hexdigest()
    return billing_dbt_project.target_path / f"parse-{digest[:12]}"


def _warehouse_file_name() -> str:
    """The warehouse file's name: its stem is the catalog dbt-duckdb names every
    relation in, so a manifest is parsed for one name (billing.duckdb by default)."""
    return Path(os.environ.get("BILLING_DB", "billing.duckdb")).name


@contextmanager
def dbt_warehouse(path: Path) -> Iterator[None]:
    """The dbt profile pointed at the warehouse `path` (BILLING_DB) for the block."""
    saved = os.environ.get("BILLING_DB")
    os.environ["BILLING_DB"] = str(path)
    try:
        yield
    finally:
        if saved is None:
            del os.environ["BILLING_DB"]
        else:
            os.environ["BILLING_DB"] = saved


def _parse_dbt_project(parse_vars: Mapping[str, Any]) -> Manifest:
    """dbt's manifest of the project, parsed in-process (no dbt process to start),
    written with dbt's partial-parse state to its target folder."""
    args = ["parse", "--quiet", *dbt_project_args(_parse_target_path(parse_vars))]
    if parse_vars:
        args += ["--vars", json.dumps(parse_vars, sort_keys=True)]
    # dbt keeps its saved parse (partial_parse.msgpack) only while the profile's
    # connection values are unchanged, the warehouse path among them, though the
    # parse never connects. Every test, benchmark and deployment has a warehouse of
    # its own, and each new one cost a full parse of the project (~8.5 s, against
    # ~2.5 s to check and reuse the saved one): the parse is told of a stand-in.
    with dbt_warehouse(PARSE_STAND_IN_DIR / _warehouse_file_name()):
        result = dbtRunner().invoke(args)
    if not result.success:
        raise RuntimeError(f"dbt parse failed: {result.exception}")
    return result.result


# (parse vars as JSON, warehouse file name, newest project file mtime) -> the manifest, serialized.
_parsed: dict[tuple[str, str, float], bytes] = {}


def parsed_dbt_manifest(parse_vars: Mapping[str, Any] | None = None) -> Manifest:
    """A fresh copy of the manifest parsed with `parse_vars`: parsed once per process,
    set of vars and warehouse file name (again when a project file changes). A copy,
    because a run writes compiled SQL into the manifest's nodes."""
    parse_vars = parse_vars or {}
    key = (
        json.dumps(parse_vars, sort_keys=True),
        _warehouse_file_name(),
        newest_dbt_source_mtime(),
    )
    if key not in _parsed:
        _parsed[key] = _parse_dbt_project(parse_vars).to_msgpack()
    return Manifest.from_msgpack(_parsed[key])


def ensure_dbt_manifest() -> Path:
    """Parse the dbt project if its manifest is missing or stale; return the manifest path.

    The parse is kept for the process's dbt commands (orchestration/dbt_runner.py)."""
    manifest = billing_dbt_project.manifest_path
    if not manifest.exists() or manifest.stat().st_mtime < newest_dbt_source_mtime():
        parsed_dbt_manifest()
    return manifest
