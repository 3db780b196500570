"""The Dagster home's run history, written by `billing` commands without the
per-event cost of Dagster's default SQLite event log.

Dagster's SQLite event log opens a database, commits (an fsync) and closes it
(a WAL checkpoint, another fsync) for every event, and a period's run stores
~500 of them: 10–20 s of a 25–55 s run of the sample company. The commands'
instance keeps one connection per database open for the run instead, with
SQLite's `synchronous = NORMAL` (in WAL mode a crash loses at most the last
events, never the database), and closes them when the run ends. The files
and tables are Dagster's own, so the UI reads the history as always; the UI
itself keeps Dagster's default storage, whose file watcher follows live runs.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy
from dagster import DagsterInstance
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy.engine import Connection, Engine


class RunHistoryEventLogStorage(SqliteEventLogStorage):
    """Dagster's run-sharded SQLite event log, with its connections held open."""

    def __init__(self, base_dir: str, inst_data=None) -> None:
        self._engines: dict[str, Engine] = {}
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> "RunHistoryEventLogStorage":
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engines.get(shard) or self._open(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _open(self, shard: str) -> Engine:
        engine = sqlalchemy.create_engine(
            self.conn_string_for_shard(shard),
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        sqlalchemy.event.listen(
            engine, "connect", lambda dbapi, _: dbapi.execute("pragma synchronous = normal")
        )
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        self._engines[shard] = engine
        return engine

    def dispose(self) -> None:
        with self._db_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()
        super().dispose()


@contextmanager
def command_instance() -> Iterator[DagsterInstance | None]:
    """The instance a command's run is recorded in: that of $DAGSTER_HOME (its
    dagster.yaml, events written as above), or none (Dagster keeps the run in memory)."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        yield None
        return
    event_log = {
        "module": __name__,
        "class": RunHistoryEventLogStorage.__name__,
        "config": {"base_dir": str(Path(home) / "history" / "runs")},
    }
    ref = InstanceRef.from_dir(home, overrides={"event_log_storage": event_log})
    with DagsterInstance.from_ref(ref) as instance:
        yield instance
