"""dbt run inside the Dagster process, on a manifest parsed once per process.

dagster-dbt's `DbtCliResource` starts a dbt process per command: seconds of
imports, then a full re-parse of the project, because dbt re-parses everything
when `--vars` change and the period and as-of are vars. A period run calls dbt
at least twice, the tests hundreds of times. Here dbt runs through its
programmatic entry point, `dbtRunner`, on a manifest parsed once per process.

The period and as-of (`RUN_VARS`) only matter when dbt compiles a model to run
it, so the parse leaves them out. Any other var (the simulation's
`schema_prefix` and `raw_schema`) decides where models live, which is fixed at
parse time, so each set of those gets a parse of its own.

dbt's result events become Dagster events through dagster-dbt's own
translation, so assets, asset checks and selection behave as with the CLI.
"""

import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, ConfigurableResource
from dagster_dbt.asset_utils import (
    extract_runtime_selection_from_args,
    get_manifest_and_translator_from_dbt_assets,
    get_updated_cli_invocation_params_for_context,
)
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage
from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunner
from dbt.contracts.graph.manifest import Manifest
from dbt_common.events.base_types import EventLevel, EventMsg
from dbt_common.events.functions import msg_to_dict

from orchestration.project import dbt_project_args, parsed_dbt_manifest

RUN_VARS = ("period", "as_of")
# The events dagster-dbt turns into outputs and check results; a build fires ~25 per
# node (queries, cache, connections), and converting each costs ~0.1 ms.
_RESULT_EVENTS = frozenset(
    {"LogSeedResult", "LogModelResult", "LogSnapshotResult", "LogTestResult"}
)
# dbt's end-of-run summary of a failed node: which node, then dbt's error for it.
_SUMMARY_EVENTS = ("RunResultFailure", "RunResultError")
_ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


class DbtFailed(Exception):
    """A dbt command failed; the message is the command and dbt's first error."""


def _vars_of(args: list[str]) -> dict[str, Any]:
    return json.loads(args[args.index("--vars") + 1]) if "--vars" in args else {}


def _manifest_for(args: list[str]) -> Manifest:
    """The manifest parsed with `args`' vars other than the run vars."""
    return parsed_dbt_manifest({k: v for k, v in _vars_of(args).items() if k not in RUN_VARS})


def release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open after a command, so the
    process can open the file again (read-only, say) once dbt is done."""
    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        if environment is not None:
            environment.close()
        DuckDBConnectionManager.close_all_connections()


def _invoke(args: list[str]) -> tuple[bool, list[EventMsg]]:
    """dbt in a target folder deleted afterwards: what a run says comes from its
    events, so it writes no manifest.json or run_results.json. Nor, unless
    DBT_LOG_LEVEL_FILE asks for it, dbt's debug log (dbt_project/logs/dbt.log,
    every query of every node). Together ~1.7 s of a 9.5 s build of the sample's
    October. What dbt prints goes to the period's run log as before."""
    events: list[EventMsg] = []
    manifest = _manifest_for(args)
    file_log_level = os.environ.get("DBT_LOG_LEVEL_FILE", "none")
    with tempfile.TemporaryDirectory(prefix="dbt-run-") as target_path:
        try:
            result = dbtRunner(manifest=manifest, callbacks=[events.append]).invoke(
                [
                    *args,
                    "--no-write-json",
                    "--log-level-file",
                    file_log_level,
                    *dbt_project_args(Path(target_path)),
                ]
            )
        finally:
            release_duckdb()
    return result.success, events


def _failure(args: list[str], events: list[EventMsg]) -> DbtFailed:
    """One line: the command, the node that failed and why (dbt's summary of the
    run), else dbt's first error."""
    first_of: dict[str, str] = {}
    for event in events:
        if event.info.level == EventLevel.ERROR and event.info.msg:
            first_of.setdefault(event.info.name, event.info.msg)
    reasons = [first_of[name] for name in _SUMMARY_EVENTS if name in first_of]
    reasons = reasons or list(first_of.values())[:1] or ["see dbt's log"]
    why = ": ".join(" ".join(_ANSI_COLOUR.sub("", reason).split()) for reason in reasons)
    command = " ".join(a for a in args if not a.startswith("{"))
    return DbtFailed(f"dbt {command} failed: {why}")


class BillingDbt(ConfigurableResource):
    """The dbt project, run in-process (see the module's docstring)."""

    def run(self, args: list[str]) -> None:
        """A dbt command outside any asset's selection (re-rating another period, say)."""
        success, events = _invoke(args)
        if not success:
            raise _failure(args, events)

    def build(self, context: AssetExecutionContext, args: list[str]) -> Iterator[Any]:
        """`args` on the models and tests the run selected of the dbt asset; yields
        an output per model built and a check result per test, as dagster-dbt does."""
        manifest, translator, _ = get_manifest_and_translator_from_dbt_assets([context.assets_def])
        cleaned_args, selects, excludes = extract_runtime_selection_from_args(args)
        params = get_updated_cli_invocation_params_for_context(
            context=context,
            manifest=manifest,
            dagster_dbt_translator=translator,
            runtime_selects=selects,
            runtime_excludes=excludes,
        )
        selection = list(params.selection_args)
        if params.indirect_selection:
            selection += ["--indirect-selection", params.indirect_selection]
        success, events = _invoke([*cleaned_args, *selection])
        for event in events:
            if event.info.name not in _RESULT_EVENTS:
                continue
            message = DbtCoreCliEventMessage(msg_to_dict(event), event_history_metadata={})
            yield from message.to_default_asset_events(
                manifest=params.manifest,
                dagster_dbt_translator=params.dagster_dbt_translator,
                context=context,
                project=params.dbt_project,
            )
        if not success:
            # After the events, so the models built and the tests that failed show in the run.
            raise _failure(args, events)
