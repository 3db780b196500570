"""dbt as an analyst runs it (`dbt build`, `dbt docs generate`), inside the test process.

The same commands as the `dbt` command line, through dbt's programmatic entry
point, on the manifest this process has parsed (orchestration/project.py). A
`dbt` process per command spent ~3 s importing dbt and ~8 s parsing the whole
project again: each test's warehouse has a path of its own, and dbt keeps its
saved parse only for the profile's path it was made with.
"""

from collections.abc import Callable, Sequence
from pathlib import Path

from dbt.cli.main import dbtRunner, dbtRunnerResult
from dbt_common.events.base_types import EventMsg

from orchestration.dbt_runner import release_duckdb
from orchestration.project import dbt_project_args, dbt_warehouse, parsed_dbt_manifest


def run_dbt(
    db_path: Path, target: Path, *args: str, callbacks: Sequence[Callable[[EventMsg], None]] = ()
) -> dbtRunnerResult:
    """`dbt *args` on the warehouse `db_path`, writing its artifacts (run_results.json,
    manifest.json, catalog.json) to `target`; `callbacks` get each of dbt's events.
    Only the period and as-of may be passed as vars: any other var changes the
    parse (orchestration/dbt_runner.py)."""
    try:
        with dbt_warehouse(db_path):
            return dbtRunner(manifest=parsed_dbt_manifest(), callbacks=list(callbacks)).invoke(
                [*args, *dbt_project_args(target)]
            )
    finally:
        release_duckdb()


def dbt_failures(result: dbtRunnerResult) -> str:
    """Why a command failed: dbt's exception, if any, and each node that failed
    or erred with its message (a failing model or test raises no exception)."""
    failed = [
        f"{r.node.name}: {r.message}"
        for r in (result.result or [])
        if getattr(r, "status", None) in ("error", "fail")
    ]
    return f"{result.exception} {failed}"
