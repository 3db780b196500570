"""`billing simulate`: the pricing_simulation asset, run outside the UI."""

from contextlib import redirect_stdout
from pathlib import Path

from dagster import materialize

from orchestration.assets.simulation import pricing_simulation
from orchestration.definitions import billing_resources
from orchestration.project import ensure_dbt_manifest
from orchestration.run_history import command_instance
from orchestration.runs import QUIET_CONSOLE, RunFailed, _root_cause


def run_pricing_simulation(
    *,
    db_path: Path,
    candidate: Path,
    periods: str,
    threshold_percent: float,
    data_dir: Path | None = None,
) -> Path:
    """Re-rate `periods` under `candidate` in the sim_ schemas; return the report's folder.

    Results: tables simulation.pricing_comparison(_by_plan) in the warehouse, and
    CSVs and pricing_simulation.html in <db folder>/simulation/. dbt's log goes
    to <db folder>/logs/simulation.log.
    """
    ensure_dbt_manifest()
    output_dir = db_path.parent
    log_path = output_dir / "logs" / "simulation.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    config = {
        "candidate": str(candidate.resolve()),
        "periods": periods,
        "threshold_percent": threshold_percent,
    }
    with (
        log_path.open("a", encoding="utf-8") as log,
        redirect_stdout(log),
        command_instance() as instance,
    ):
        result = materialize(
            [pricing_simulation],
            resources=billing_resources(
                data_dir=str(data_dir) if data_dir else "",
                db_path=str(db_path),
                output_dir=str(output_dir),
            ),
            run_config={**QUIET_CONSOLE, "ops": {"pricing_simulation": {"config": config}}},
            instance=instance,
            raise_on_error=False,
        )
    if not result.success:
        failures = result.get_step_failure_events()
        reason = _root_cause(failures[0].step_failure_data.error) if failures else "run failed"
        raise RunFailed(reason)
    return output_dir / "simulation"
