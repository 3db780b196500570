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

from loaders.event_sources import sql_literal

# DuckDB's memory bound for every step, the one dbt's profile sets too
# (dbt_project/profiles.yml). Without it a load takes DuckDB's default, 80 % of
# the machine; with it a large period spills to `<warehouse>.duckdb.tmp/`.
MEMORY_LIMIT_ENV = "BILLING_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "6GB"


# The on-disk format of a new warehouse file: DuckDB 1.3's, not the default that
# DuckDB 0.10 can still read. Its string compression (DICT_FSST) wrote the
# per-event tables about 30 % faster at 10M events (raw.usage_events 5.4 -> 3.9 s,
# fct_usage_events 7.9 -> 5.4 s) into a smaller file, and DuckDB 1.3 or later
# opens it. A file keeps the format it was created in.
WAREHOUSE_STORAGE_VERSION = "v1.3.0"


def duckdb_memory_limit() -> str:
    return os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT)


def create_warehouse_file(db_path: Path) -> None:
    """An empty warehouse file in WAREHOUSE_STORAGE_VERSION, unless the file exists.

    Only a new file takes a storage version (ATTACH's option); a connection's
    setting leaves a file in the format it was created in.
    """
    if db_path.exists():
        return
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as conn:
        conn.execute(
            f"attach {sql_literal(str(db_path))} as warehouse "
            f"(storage_version '{WAREHOUSE_STORAGE_VERSION}')"
        )


class BillingWarehouse(ConfigurableResource):
    """The input data directory, the DuckDB file and the output folder of a deployment."""

    data_dir: str
    db_path: str
    output_dir: str

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        if not read_only:
            create_warehouse_file(Path(self.db_path))
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
