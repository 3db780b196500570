"""A deterministic synthetic month of usage for the benchmark, written set-based by DuckDB.

The sample company ("Nimbus API", 40 customers) is too small to show where a
billing run spends its time, so this writes October 2026 for 10,000 customers
in the sample catalog's shape (its 3 plans and 5 meters, without the one
negotiated override) at 1M, 10M or 100M events.

Every value of an event is a pure function of its row number `r` and the seed
(DuckDB's `hash()`), so no Python loop touches an event and a seed always
gives the same data for a DuckDB version. Rows are time-ordered because the
timestamp grows with `r`, which lets each landing file be one `COPY` of a
`range()` slice without a sort:

- customers: volume is Zipf-like (log-uniform customer index: customer k
  gets about 1/(k·ln N) of the events, the first one ~7 %);
- ~5 % of customers change plan mid-month (two subscription rows);
- ~1 % of rows are exact re-sends, half later in the same file and half in
  the next file, so the loader's dedup works within and across files;
- ~0.01 % of rows name an unknown customer, so quarantine is never empty;
- landing files alternate Parquet (all columns text, as the sample writes)
  and JSON Lines (typed numbers, nested properties);
- a separate "late" file holds 1 % more events for the same month, landed
  only by the benchmark's re-run.

Output: `<root>/data/` (catalog.yml, customers.csv, subscriptions.csv,
landing/events/) and `<root>/late/`; `<root>/params.json` records what was
generated so a second call with the same parameters reuses the files.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from data.generate_sample import CATALOG_YML

PERIOD_START = "2026-10-01"
SECONDS_IN_PERIOD = 31 * 86400
GENERATOR_VERSION = 1
SCALES = {"100k": 100_000, "1M": 1_000_000, "10M": 10_000_000, "100M": 100_000_000}

# Event type mix: cumulative shares of api_call, compute_job, user_login; the rest are
# storage snapshots.
API_SHARE, COMPUTE_SHARE, LOGIN_SHARE = 0.80, 0.90, 0.96
DUPLICATE_SHARE = 0.01
UNKNOWN_CUSTOMER_EVERY = 10_000
PLAN_CHANGE_PERCENT = 5
LATE_SHARE = 0.01


@dataclass(frozen=True)
class MonthSpec:
    """What to generate; equal specs give equal files, so generated data is reused."""

    events: int
    customers: int = 10_000
    files: int = 8
    seed: int = 2026
    version: int = GENERATOR_VERSION
    duckdb_version: str = duckdb.__version__

    @property
    def late_events(self) -> int:
        return max(1, round(self.events * LATE_SHARE))


@dataclass(frozen=True)
class SyntheticMonth:
    """Where a generated month lives."""

    root: Path
    spec: MonthSpec

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing" / "events"

    @property
    def late_file(self) -> Path:
        return self.root / "late" / "events-99-late.parquet"

    def landing_files(self) -> list[Path]:
        return sorted(self.landing_dir.iterdir())


def parse_scale(text: str) -> int:
    """'1M' -> 1_000_000; a plain number is taken as is."""
    return SCALES[text] if text in SCALES else int(text)


def bench_catalog() -> str:
    """The sample price book without its override (a contract for a sample customer id)."""
    return CATALOG_YML.split("\noverrides:")[0]


def _define_macros(conn: duckdb.DuckDBPyConnection, spec: MonthSpec) -> None:
    """Per-customer and per-event attributes as SQL macros over (row number, seed)."""
    n = spec.customers
    conn.execute(
        f"""
        create or replace macro uniform(key, salt) as
            (hash(key, salt, {spec.seed}) % 1000000)::double / 1000000;
        create or replace macro base_plan(c) as
            case when uniform(c, 'plan') < 0.5 then 'starter'
                 when uniform(c, 'plan') < 0.8 then 'growth' else 'scale' end;
        create or replace macro changes_plan(c) as
            hash(c, 'change', {spec.seed}) % 100 < {PLAN_CHANGE_PERCENT};
        create or replace macro next_plan(c) as
            case base_plan(c) when 'starter' then 'growth' when 'growth' then 'scale'
                 else 'growth' end;
        create or replace macro change_at(c) as
            timestamp '{PERIOD_START}'
                + to_seconds(86400 + hash(c, 'at', {spec.seed}) % (26 * 86400));
        create or replace macro seats(plan, c) as
            case plan when 'starter' then 1 when 'growth' then 3 + hash(c, 'seats', {spec.seed}) % 8
                 else 20 + hash(c, 'seats', {spec.seed}) % 31 end;
        create or replace macro customer_id(c) as printf('cus_%05d', c);
        create or replace macro events(lo, hi, first, count) as table
            with rows as (
                select r,
                       least({n}, floor(pow({n} + 1, uniform(r, 'customer')))::bigint) as c,
                       uniform(r, 'type') as kind,
                       (hash(r, 'pick', {spec.seed}) >> 1)::bigint as pick,
                       timestamp '{PERIOD_START}'
                           + to_seconds(((r - first) * {SECONDS_IN_PERIOD}) // count) as event_at
                from range(lo, hi) as t(r)
            ),
            typed as (
                select *,
                       case when kind < {API_SHARE} then 'api_call'
                            when kind < {COMPUTE_SHARE} then 'compute_job'
                            when kind < {LOGIN_SHARE} then 'user_login'
                            else 'storage_snapshot' end as event_type
                from rows
            )
            select
                printf('evt_%08x%010d', hash(r, 'id', {spec.seed}) % 4294967296, r) as event_id,
                case when pick % {UNKNOWN_CUSTOMER_EVERY} = 0 then 'cus_99999'
                     else customer_id(c) end as customer_id,
                event_type,
                strftime(event_at, '%Y-%m-%dT%H:%M:%SZ') as "timestamp",
                case event_type
                    when 'api_call' then case when pick % 10 < 7 then '1' end
                    when 'compute_job' then printf('%.1f', ((pick // 10) % 895 + 5) / 10)
                end as quantity,
                case event_type
                    when 'api_call' then printf('{{"endpoint":"%s","tier":"%s"}}',
                        ['/v1/search', '/v1/documents', '/v1/embeddings', '/v1/geocode',
                         '/v1/translate'][(pick // 10) % 5 + 1],
                        case when (pick // 100) % 10 = 0 then 'premium' else 'standard' end)
                    when 'compute_job' then printf('{{"job_type":"%s","region":"%s"}}',
                        ['batch', 'etl', 'inference', 'export'][(pick // 10000) % 4 + 1],
                        ['us-east-1', 'us-west-2', 'eu-west-1'][(pick // 100000) % 3 + 1])
                    when 'user_login' then printf('{{"user_id":"usr_%05d_%03d"}}', c,
                        (pick // 10) % (2 + hash(c, 'users', {spec.seed}) % 40))
                    else printf('{{"bucket":"primary","gb":%.2f}}',
                        (1 + hash(c, 'gb', {spec.seed}) % 900) * (1 + ((pick // 10) % 200) / 1000))
                end as properties,
                uniform(r, 'dup') < {DUPLICATE_SHARE} as is_duplicated,
                uniform(r, 'dup-where') < 0.5 as resent_in_same_file
            from typed;
        """
    )


def _copy(conn: duckdb.DuckDBPyConnection, query: str, path: Path, fmt: str) -> None:
    conn.execute(f"copy ({query}) to '{path}' ({fmt})")


def _write_reference(conn: duckdb.DuckDBPyConnection, spec: MonthSpec, data_dir: Path) -> None:
    """catalog.yml, customers.csv and subscriptions.csv (10,000 rows each: set-based too)."""
    (data_dir / "catalog.yml").write_text(bench_catalog(), encoding="utf-8")
    customers = f"""
        select customer_id(c) as customer_id,
               printf('Customer %05d Inc.', c) as name,
               printf('billing@customer-%05d.example.com', c) as email,
               'USD' as currency, '0.0825' as tax_rate, 'US' as country,
               case base_plan(c) when 'starter' then 'startup' when 'growth' then 'smb'
                    else 'enterprise' end as segment,
               printf('%d Market Street', 1 + c % 480) as address_line1,
               'Austin' as city, printf('787%02d', c % 100) as postal_code
        from range(1, {spec.customers} + 1) as t(c) order by c
    """
    _copy(conn, customers, data_dir / "customers.csv", "format csv, header")
    subscriptions = f"""
        with rows as (
            select c, 1 as part, base_plan(c) as plan_id,
                   timestamp '2026-01-15' + to_days((hash(c, 'start', {spec.seed}) % 160)::int)
                       as started_at,
                   case when changes_plan(c) then change_at(c) end as ended_at
            from range(1, {spec.customers} + 1) as t(c)
            union all
            select c, 2, next_plan(c), change_at(c), null
            from range(1, {spec.customers} + 1) as t(c)
            where changes_plan(c)
        )
        select printf('sub_%05d_%d', c, part) as subscription_id, customer_id(c) as customer_id,
               plan_id, strftime(started_at, '%Y-%m-%dT%H:%M:%SZ') as started_at,
               strftime(ended_at, '%Y-%m-%dT%H:%M:%SZ') as ended_at, seats(plan_id, c) as seats
        from rows order by c, part
    """
    _copy(conn, subscriptions, data_dir / "subscriptions.csv", "format csv, header")


def _file_rows(spec: MonthSpec, index: int) -> str:
    """Rows of landing file `index`: its slice, its own re-sends, the previous file's re-sends."""
    bounds = [spec.events * i // spec.files for i in range(spec.files + 1)]
    lo, hi = bounds[index], bounds[index + 1]
    own = f"events({lo}, {hi}, 0, {spec.events})"
    last = index == spec.files - 1
    parts = [
        f"select * from {own}",
        f"select * from {own} where is_duplicated and (resent_in_same_file or {last})",
    ]
    if index > 0:
        previous = f"events({bounds[index - 1]}, {lo}, 0, {spec.events})"
        parts.append(f"select * from {previous} where is_duplicated and not resent_in_same_file")
    union = " union all ".join(parts)
    return f"select * exclude (is_duplicated, resent_in_same_file) from ({union})"


def _as_jsonl_rows(query: str) -> str:
    """Typed JSON: quantity a number, properties a nested object (as producers send)."""
    return (
        'select event_id, customer_id, event_type, "timestamp", '
        "quantity::double as quantity, properties::json as properties "
        f"from ({query})"
    )


def _write_events(conn: duckdb.DuckDBPyConnection, month: SyntheticMonth) -> None:
    spec = month.spec
    month.landing_dir.mkdir(parents=True)
    for index in range(spec.files):
        rows = _file_rows(spec, index)
        if index % 2 == 0:
            path = month.landing_dir / f"events-{index + 1:02d}.parquet"
            _copy(conn, rows, path, "format parquet")
        else:
            path = month.landing_dir / f"events-{index + 1:02d}.jsonl"
            _copy(conn, _as_jsonl_rows(rows), path, "format json")
    month.late_file.parent.mkdir(parents=True)
    late = (
        "select * exclude (is_duplicated, resent_in_same_file) from "
        f"events({spec.events}, {spec.events + spec.late_events}, {spec.events}, "
        f"{spec.late_events})"
    )
    _copy(conn, late, month.late_file, "format parquet")


def _connect(tmp_dir: Path) -> duckdb.DuckDBPyConnection:
    """In-memory DuckDB with the benchmark's resource limits (the machine is shared)."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(
        config={"threads": 2, "memory_limit": "8GB", "temp_directory": str(tmp_dir)}
    )
    conn.execute("set TimeZone = 'UTC'")
    # Order-preserving COPY keeps rows time-ordered and the files deterministic.
    conn.execute("set preserve_insertion_order = true")
    return conn


def generate_month(root: Path, spec: MonthSpec, tmp_dir: Path) -> SyntheticMonth:
    """Write the month under `root`, or reuse it when `root/params.json` matches `spec`."""
    month = SyntheticMonth(root, spec)
    params_path = root / "params.json"
    wanted = asdict(spec)
    if params_path.exists() and json.loads(params_path.read_text()) == wanted:
        return month
    if root.exists():
        shutil.rmtree(root)
    month.data_dir.mkdir(parents=True)
    with _connect(tmp_dir) as conn:
        _define_macros(conn, spec)
        _write_reference(conn, spec, month.data_dir)
        _write_events(conn, month)
    params_path.write_text(json.dumps(wanted, indent=2) + "\n")
    return month
