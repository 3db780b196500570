"""The dbt unit tests (a worked example per pricing rule, beside the models).

Billing runs exclude them (they prove the models, not the data); here they run
with real dbt against a copy of a billed warehouse, where their parents exist.
"""

import json
import os
import subprocess
from collections import Counter
from pathlib import Path

from orchestration.project import DBT_PROJECT_DIR, ensure_dbt_manifest
from tests.conftest import DBT_EXECUTABLE


def test_every_dbt_unit_test_passes(billed_warehouse: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [DBT_EXECUTABLE, "test", "--select", "test_type:unit", "--profiles-dir", "."],
        cwd=DBT_PROJECT_DIR,
        env={
            **os.environ,
            "BILLING_DB": str(billed_warehouse),
            "DBT_TARGET_PATH": str(tmp_path / "target"),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    # The run's results also hold the project's on-run-start hook: count the unit tests.
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    statuses = Counter(r["status"] for r in results if r["unique_id"].startswith("unit_test."))
    defined = len(json.loads(ensure_dbt_manifest().read_text())["unit_tests"])
    assert statuses == Counter({"pass": defined})
