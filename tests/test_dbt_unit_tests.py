"""The dbt unit tests (a worked example per pricing rule, beside the models).

Billing runs exclude them (they prove the models, not the data); here they run
with real dbt against a copy of a billed warehouse, where their parents exist.
"""

import json
from collections import Counter
from pathlib import Path

from orchestration.project import ensure_dbt_manifest
from tests.dbt_cli import dbt_failures, run_dbt


def test_every_dbt_unit_test_passes(billed_warehouse: Path, tmp_path: Path) -> None:
    done = run_dbt(billed_warehouse, tmp_path / "target", "test", "--select", "test_type:unit")
    assert done.success, dbt_failures(done)
    # The run's results also hold the project's on-run-start hook: count the unit tests.
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    statuses = Counter(r["status"] for r in results if r["unique_id"].startswith("unit_test."))
    defined = len(json.loads(ensure_dbt_manifest().read_text())["unit_tests"])
    assert statuses == Counter({"pass": defined})
