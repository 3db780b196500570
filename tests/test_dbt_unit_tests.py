"""The dbt unit tests (a worked example per pricing rule, beside the models).

Billing runs exclude them (they prove the models, not the data); here they run
with real dbt against a copy of a billed warehouse, where their parents exist.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from orchestration.project import DBT_PROJECT_DIR, ensure_dbt_manifest
from orchestration.runs import Deployment
from tests.conftest import DBT_EXECUTABLE


def test_every_dbt_unit_test_passes(billed: Deployment, tmp_path: Path) -> None:
    db = tmp_path / "billing.duckdb"
    shutil.copy(billed.db_path, db)
    done = subprocess.run(
        [DBT_EXECUTABLE, "test", "--select", "test_type:unit", "--profiles-dir", "."],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, "BILLING_DB": str(db), "DBT_TARGET_PATH": str(tmp_path / "target")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    summary = re.search(r"PASS=(\d+) WARN=(\d+) ERROR=(\d+)", done.stdout)
    assert summary is not None, done.stdout[-2000:]
    passed, warned, errored = map(int, summary.groups())
    defined = len(json.loads(ensure_dbt_manifest().read_text())["unit_tests"])
    assert (passed, warned, errored) == (defined, 0, 0)
