"""Load landing files of usage events into the raw event tables, each exactly once.

A file is identified by name and SHA-256 of its content: the same name and
content is skipped; the same name with new content is loaded again and its
rows dedup against what is already loaded. Files load in name order, each in
one transaction with its `raw.landed_files` row, so a crash leaves nothing of
the file behind and the next run loads it again. A file is not read again
while its `file_signature` (size, modification and change times, inode) is
the one recorded when it was loaded: hashing every landing file on every run
took 1 s per GB, most of a late re-run's load at 10M events. Writing a file
changes its change time, which no tool sets back, and a file moved into place
(landing uploads are renamed from a hidden name) has a new inode.

Every row ends in exactly one of `raw.usage_events` (billable),
`raw.duplicate_events` (same event_id and payload as an earlier row) or
`raw.quarantined_events` (with a reason code, SPEC "Precise readings →
Events"); the load refuses to commit if the counts do not add up. All
parsing, validation and dedup is set-based SQL in DuckDB (`event_sql`
explains where the time goes). Insertion order is not kept while loading
(`preserve_insertion_order = false`: inserts run in parallel in less
memory); every row carries its file and line instead.

Conventions: `loaded_at` and `quarantined_at` are the run's as-of (naive
UTC), so re-running history with `--as-of` is reproducible. Each file loaded
gets the next `load_id` (1, 2, ...), on its `raw.landed_files` row and on
every event it brought: unlike `loaded_at`, it only grows, so the per-event
dbt models add the events of loads newer than the ones they hold instead of
re-deriving the period (see `batch_incremental` in dbt_project/macros). Stored
`properties` is the parsed object re-serialized canonically (`{}` when
absent): top-level keys sorted, top-level whole numbers written without a
fraction (`1.0` -> `1`), so payloads equal by value compare equal. Quantities
are DECIMAL(38, 12); finer digits are rounded. Blank lines are not rows.
This sets the connection's TimeZone to UTC.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from loaders.errors import InputError
from loaders.event_sources import STAGERS, duckdb_setting, source_label
from loaders.event_sql import (
    CHECK_SQL,
    DECIDE_SQL,
    EARLIER_SQL,
    INSERT_DUPLICATES_SQL,
    INSERT_LOADED_SQL,
    INSERT_QUARANTINED_SQL,
    PROPERTIES_SQL,
)
from loaders.raw_schema import EVENT_TABLES, RAW_SCHEMA, create_table_sql

LANDING_DIR = Path("landing") / "events"
# Dropped by warehouses made before payloads were compared by value instead of by hash.
RETIRED_COLUMNS = {"usage_events": ("payload_hash",)}
# Given a load_id by warehouses made before loads were numbered: what they hold is load 0.
LOAD_NUMBERED_TABLES = ("usage_events", "landed_files")


@dataclass(frozen=True)
class FileLoadResult:
    """What happened to one landing file (counts are zero when it was skipped)."""

    file_name: str
    content_hash: str
    skipped: bool
    row_count: int = 0
    loaded_count: int = 0
    duplicate_count: int = 0
    quarantined_count: int = 0


@dataclass(frozen=True)
class LandedFile:
    """A landing file as found: its signature, its content's hash, whether it is loaded."""

    signature: str
    content_hash: str
    already_loaded: bool


def content_hash(path: Path) -> str:
    """SHA-256 of the file's bytes, read in chunks so large files stay cheap."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_signature(path: Path) -> str:
    """Size, modification and change times (ns) and inode: any write changes one of them."""
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}:{stat.st_ino}"


def _examine(conn: duckdb.DuckDBPyConnection, path: Path) -> LandedFile:
    """Whether the file is loaded: by its signature when a load recorded it, else by
    reading its content. A file found by content gets its current signature recorded,
    so that the next run need not read it (a file touched, or loaded before
    signatures were recorded)."""
    signature = file_signature(path)
    row = conn.execute(
        "select content_hash from raw.landed_files where file_name = ? and file_signature = ?",
        [path.name, signature],
    ).fetchone()
    if row:
        return LandedFile(signature, row[0], already_loaded=True)
    digest = content_hash(path)
    recorded = conn.execute(
        "update raw.landed_files set file_signature = ? where file_name = ? and content_hash = ?",
        [signature, path.name, digest],
    ).fetchone()[0]
    return LandedFile(signature, digest, already_loaded=recorded > 0)


def _suffix(path: Path) -> str:
    for suffix in sorted(STAGERS, key=len, reverse=True):
        if path.name.endswith(suffix):
            return suffix
    raise InputError(
        f"{source_label(path)}: unsupported file type; expected one of {', '.join(STAGERS)}"
    )


def landing_files(data_dir: Path) -> list[Path]:
    """Landing files in name order; hidden files (in-progress uploads) are ignored."""
    folder = data_dir / LANDING_DIR
    if not folder.is_dir():
        return []
    files = sorted(
        (p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")),
        key=lambda p: p.name,
    )
    for path in files:
        _suffix(path)
    return files


def _scalar(conn: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> int:
    """The single number a statement returns (DuckDB returns an insert's row count)."""
    row = conn.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


def _stage(conn: duckdb.DuckDBPyConnection, path: Path) -> None:
    try:
        STAGERS[_suffix(path)](conn, path)
    except duckdb.Error as error:
        reason = str(error).splitlines()[0]
        raise InputError(f"{source_label(path)}: cannot be read: {reason}") from None


def _drop_stage(conn: duckdb.DuckDBPyConnection) -> None:
    """Drop the file's temp objects (all named `landing_*`), views before the tables they
    read: all of them, or what a file that failed half-way left."""
    for kind, catalog in (("view", "duckdb_views"), ("table", "duckdb_tables")):
        names = conn.execute(
            f"select {kind}_name from {catalog}() where temporary and {kind}_name like 'landing_%'"
        ).fetchall()
        for (name,) in names:
            conn.execute(f"drop {kind} {name}")
    conn.execute("drop macro if exists landing_payload")


def _load_file(
    conn: duckdb.DuckDBPyConnection,
    path: Path,
    landed: LandedFile,
    as_of: datetime,
    tolerance: int,
) -> FileLoadResult:
    """Stage and check the file's rows, then classify and insert them in one transaction.

    Staging and checking only write temp tables, so they run before the
    transaction: DuckDB scans a table created inside a transaction (held in
    the transaction's local storage) two to four times slower, and they are
    most of a file's work. Dedup against `raw.usage_events` and the inserts
    run in the transaction, on the snapshot they commit to.
    """
    try:
        _stage(conn, path)
        conn.execute(PROPERTIES_SQL)
        conn.execute(
            CHECK_SQL,
            {
                "as_of": as_of,
                "future_limit": as_of + timedelta(minutes=tolerance),
                "tolerance_minutes": tolerance,
            },
        )
        conn.execute("begin transaction")
        try:
            result = _insert_checked_rows(conn, path, landed, as_of)
            conn.execute("commit")
        except BaseException:
            conn.execute("rollback")
            raise
    finally:
        _drop_stage(conn)
    return result


def _insert_checked_rows(
    conn: duckdb.DuckDBPyConnection, path: Path, landed: LandedFile, as_of: datetime
) -> FileLoadResult:
    """Dedup the checked rows and insert each where it belongs; the caller owns the transaction."""
    conn.execute(EARLIER_SQL)
    conn.execute(DECIDE_SQL, {"source_file": path.name})
    load_id = _scalar(conn, "select coalesce(max(load_id), 0) + 1 from raw.landed_files", {})
    insert_params = {"source_file": path.name, "as_of": as_of}
    result = FileLoadResult(
        file_name=path.name,
        content_hash=landed.content_hash,
        skipped=False,
        row_count=_scalar(conn, "select count(*) from landing_rows", {}),
        loaded_count=_scalar(conn, INSERT_LOADED_SQL, {**insert_params, "load_id": load_id}),
        duplicate_count=_scalar(conn, INSERT_DUPLICATES_SQL, insert_params),
        quarantined_count=_scalar(conn, INSERT_QUARANTINED_SQL, insert_params),
    )
    accounted = result.loaded_count + result.duplicate_count + result.quarantined_count
    if result.row_count != accounted:
        raise RuntimeError(
            f"{path.name}: {result.row_count} rows but {accounted} loaded, duplicate or "
            "quarantined; nothing of the file was committed"
        )
    conn.execute(
        "insert into raw.landed_files (file_name, content_hash, file_signature, loaded_at, "
        "load_id, row_count, loaded_count, duplicate_count, quarantined_count) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            path.name,
            landed.content_hash,
            landed.signature,
            as_of,
            load_id,
            result.row_count,
            result.loaded_count,
            result.duplicate_count,
            result.quarantined_count,
        ],
    )
    return result


def _add_load_id(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    """The NOT NULL load_id column, 0 on the rows already there (DuckDB cannot add a
    column with a constraint in one statement)."""
    exists = conn.execute(
        "select count(*) from information_schema.columns "
        "where table_schema = ? and table_name = ? and column_name = 'load_id'",
        [RAW_SCHEMA, table],
    ).fetchone()[0]
    if exists:
        return
    relation = f"{RAW_SCHEMA}.{table}"
    conn.execute(f"alter table {relation} add column load_id bigint default 0")
    conn.execute(f"alter table {relation} alter column load_id set not null")
    conn.execute(f"alter table {relation} alter column load_id drop default")


def _future_tolerance(conn: duckdb.DuckDBPyConnection) -> int:
    try:
        row = conn.execute("select future_tolerance_minutes from raw.settings").fetchone()
    except duckdb.CatalogException:
        row = None
    if row is None:
        raise RuntimeError("raw.settings is empty: load the reference data before landing files")
    return int(row[0])


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def load_landing_files(
    conn: duckdb.DuckDBPyConnection, data_dir: Path, as_of: datetime
) -> list[FileLoadResult]:
    """Load every new or changed file of `data_dir/landing/events`, in name order.

    `as_of` (naive = UTC) is the run's "now": events more than
    `settings.future_tolerance_minutes` after it are quarantined. Raises
    `InputError` for a file that cannot be read; files before it stay loaded.
    """
    files = landing_files(data_dir)
    as_of = _naive_utc(as_of)
    conn.execute("set TimeZone = 'UTC'")
    conn.execute(f"create schema if not exists {RAW_SCHEMA}")
    for name, columns in EVENT_TABLES.items():
        conn.execute(create_table_sql(name, columns, replace=False))
    for name, retired in RETIRED_COLUMNS.items():
        for column in retired:
            conn.execute(f"alter table {RAW_SCHEMA}.{name} drop column if exists {column}")
    for name in LOAD_NUMBERED_TABLES:
        _add_load_id(conn, name)
    conn.execute(
        f"alter table {RAW_SCHEMA}.landed_files add column if not exists file_signature varchar"
    )
    tolerance = _future_tolerance(conn)
    results = []
    with duckdb_setting(conn, "preserve_insertion_order", "false"):
        for path in files:
            landed = _examine(conn, path)
            if landed.already_loaded:
                results.append(FileLoadResult(path.name, landed.content_hash, skipped=True))
                continue
            results.append(_load_file(conn, path, landed, as_of, tolerance))
    return results
