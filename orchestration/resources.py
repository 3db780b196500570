"""Resources: where a run reads and writes, and what time it is for the run.

Secrets never pass through here: integrations read their credentials from the
environment when they run (see exporters/), so the demo needs none.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from dagster import ConfigurableResource

# DuckDB's memory bound for every step, the one dbt's profile sets too
# (dbt_project/profiles.yml). Without it a load takes DuckDB's default, 80 % of
# the machine; with it a large period spills to `<warehouse>.duckdb.tmp/`.
MEMORY_LIMIT_ENV = "BILLING_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "6GB"


def duckdb_memory_limit() -> str:
    return os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT)


class BillingWarehouse(ConfigurableResource):
    """The input data directory, the DuckDB file and the output folder of a deployment."""

    data_dir: str
    db_path: str
    output_dir: str

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        if not read_only:
            Path(self.db_path).parent.mkdir(parents=True, exist_ok=True)
        conn = duckdb.connect(self.db_path, read_only=read_only)
        try:
            conn.execute("set TimeZone = 'UTC'")
            # SET, as dbt-duckdb does: a connect-time config would have to match that of
            # any connection to the file already open in this process.
            conn.execute("set memory_limit = ?", [duckdb_memory_limit()])
            yield conn
        finally:
            conn.close()

    @property
    def invoices_dir(self) -> Path:
        return Path(self.output_dir) / "invoices"

    @property
    def outbox_dir(self) -> Path:
        return Path(self.output_dir) / "outbox"


class BillingClock(ConfigurableResource):
    """The run's "now". Every time-dependent step (future-event tolerance,
    finalization after the grace period) asks this clock, so a past period can
    be replayed exactly with `as_of`."""

    as_of: str = ""

    def now(self) -> datetime:
        """As-of time as a naive UTC datetime (naive inputs are UTC, per SPEC)."""
        if not self.as_of:
            return datetime.now(UTC).replace(tzinfo=None)
        moment = datetime.fromisoformat(self.as_of.replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        return moment
