"""Pricing simulation: re-rate history under a candidate catalog and compare (no Dagster here).

`stage_candidate` validates the candidate with the project's loaders and puts
it beside the real usage in a schema of its own; the orchestration runs the
same dbt models there (var `schema_prefix`, var `raw_schema`); `compare_revenue`
and `write_reports` set the result against what was really invoiced.
"""

from exporters.simulation.compare import (
    ComparisonRow,
    PlanRow,
    PricingComparison,
    compare_revenue,
    save_comparison,
)
from exporters.simulation.report import write_reports
from exporters.simulation.staging import (
    SIM_RAW_SCHEMA,
    SIM_SCHEMA_PREFIX,
    drop_simulation_schemas,
    stage_candidate,
)

__all__ = [
    "SIM_RAW_SCHEMA",
    "SIM_SCHEMA_PREFIX",
    "ComparisonRow",
    "PlanRow",
    "PricingComparison",
    "compare_revenue",
    "drop_simulation_schemas",
    "save_comparison",
    "stage_candidate",
    "write_reports",
]
