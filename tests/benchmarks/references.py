"""The two yardsticks the pipeline's rating is compared with, on the same landing files.

Both compute the period's usage amount, Σ over subscription segment × meter
of the catalog's per_unit or graduated price of the aggregated quantity, which
is `sum(amount)` of the pipeline's `fct_rated_usage`; the benchmark checks the
three agree, so a fast reference is known to do the same work.

- `speed_of_light`: one hand-written DuckDB query straight from the files
  (dedup by event_id with a hash GROUP BY, the cheapest method in STACK.md):
  what this machine can do at best. It skips everything a billing system does
  beyond rating (validation, quarantine, lineage, invoices).
- `pandas_script`: what a finance team's script does. pyarrow is not
  installed, so pandas cannot read Parquet itself: the script reads Parquet
  through DuckDB's `.df()` and JSON Lines with `pandas.read_json`; the rest
  (dedup, parsing, joins, aggregation, pricing) is pandas, with float money.

The price book (plans, charges, tiers) comes from the warehouse's validated
raw tables: a few rows, not what is being measured.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd

PERIOD_START = "2026-10-01"
PERIOD_END = "2026-11-01"
JSONL_COLUMNS = (
    "{event_id: 'VARCHAR', customer_id: 'VARCHAR', event_type: 'VARCHAR', "
    "timestamp: 'VARCHAR', quantity: 'VARCHAR', properties: 'VARCHAR'}"
)


def _sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join(f"'{p}'" for p in paths) + "]"


def _events_sql(parquet: list[Path], jsonl: list[Path]) -> str:
    """All landed rows as text columns, whatever the file format."""
    parts = []
    if parquet:
        parts.append(
            'select event_id, customer_id, event_type, "timestamp", quantity, properties '
            f"from read_parquet({_sql_list(parquet)})"
        )
    if jsonl:
        parts.append(
            'select event_id, customer_id, event_type, "timestamp", quantity, properties '
            f"from read_json({_sql_list(jsonl)}, format = 'newline_delimited', "
            f"columns = {JSONL_COLUMNS})"
        )
    return " union all ".join(parts)


SPEED_OF_LIGHT_SQL = """
with
landed as ({events}),
deduped as (
    select event_id,
           any_value(customer_id) as customer_id,
           any_value(event_type) as event_type,
           any_value("timestamp")::timestamptz::timestamp as event_timestamp,
           any_value(quantity) as quantity,
           any_value(properties) as properties
    from landed
    group by event_id
),
segments as (
    select s.subscription_id, s.customer_id, s.plan_id,
           (select max(p.plan_version) from wh.raw.plans as p
            where p.plan_id = s.plan_id and p.effective_from <= date '{start}') as plan_version,
           greatest(s.started_at, timestamp '{start}') as segment_start,
           least(coalesce(s.ended_at, timestamp '{end}'), timestamp '{end}') as segment_end
    from wh.raw.subscriptions as s
    where s.started_at < timestamp '{end}'
      and (s.ended_at is null or s.ended_at > timestamp '{start}')
),
located as (
    select e.*, g.subscription_id, g.plan_id, g.plan_version
    from deduped as e
    join segments as g
      on g.customer_id = e.customer_id
     and e.event_timestamp >= g.segment_start and e.event_timestamp < g.segment_end
),
usage as (
    select subscription_id, plan_id, plan_version,
           count(*) filter (where event_type = 'api_call')::decimal(38, 12) as api_calls,
           count(*) filter (where event_type = 'api_call'
               and json_extract_string(properties, '$.tier') = 'premium')::decimal(38, 12)
               as premium_api_calls,
           coalesce(max(json_extract_string(properties, '$.gb')::decimal(38, 12))
               filter (where event_type = 'storage_snapshot'), 0) as storage_gb,
           coalesce(sum(quantity::decimal(38, 12)) filter (where event_type = 'compute_job'), 0)
               as compute_minutes,
           count(distinct json_extract_string(properties, '$.user_id'))
               filter (where event_type = 'user_login')::decimal(38, 12) as active_users
    from located
    group by all
),
quantities as (
    unpivot usage
    on api_calls, premium_api_calls, storage_gb, compute_minutes, active_users
    into name meter_id value quantity
),
charges as (
    select q.*, c.charge_model, c.unit_price
    from quantities as q
    join wh.raw.plan_charges as c
      on c.customer_id is null and c.plan_id = q.plan_id
     and c.plan_version = q.plan_version and c.meter_id = q.meter_id
),
amounts as (
    select quantity::decimal(20, 6) * unit_price::decimal(18, 8) as amount
    from charges where charge_model = 'per_unit'
    union all
    select (case when c.quantity < coalesce(t.up_to, c.quantity + 1)
                 then c.quantity - t.lower_bound else t.up_to - t.lower_bound end)::decimal(20, 6)
           * t.unit_price::decimal(18, 8) + t.flat_fee
    from charges as c
    join wh.raw.charge_tiers as t
      on t.customer_id is null and t.plan_id = c.plan_id
     and t.plan_version = c.plan_version and t.meter_id = c.meter_id
    where c.charge_model = 'graduated' and (t.tier_index = 1 or c.quantity > t.lower_bound)
)
select sum(amount) from amounts
"""


def split_by_format(files: list[Path]) -> tuple[list[Path], list[Path]]:
    parquet = [p for p in files if p.name.endswith(".parquet")]
    jsonl = [p for p in files if p.name.endswith(".jsonl")]
    if len(parquet) + len(jsonl) != len(files):
        raise ValueError("the references read only .parquet and .jsonl landing files")
    return parquet, jsonl


def speed_of_light(conn: duckdb.DuckDBPyConnection, files: list[Path]) -> Decimal:
    """The period's usage amount in one query; `conn` has the warehouse attached as `wh`."""
    parquet, jsonl = split_by_format(files)
    sql = SPEED_OF_LIGHT_SQL.format(
        events=_events_sql(parquet, jsonl), start=PERIOD_START, end=PERIOD_END
    )
    (total,) = conn.execute(sql).fetchone()
    return Decimal(total or 0)


def _read_events(conn: duckdb.DuckDBPyConnection, files: list[Path]) -> pd.DataFrame:
    parquet, jsonl = split_by_format(files)
    frames = []
    if parquet:
        frames.append(conn.execute(f"select * from read_parquet({_sql_list(parquet)})").df())
    for path in jsonl:
        frames.append(pd.read_json(path, lines=True, dtype={"quantity": float}))
    events = pd.concat(frames, ignore_index=True)
    events["quantity"] = pd.to_numeric(events["quantity"])
    return events


def _segments(subscriptions: pd.DataFrame, plans: pd.DataFrame) -> pd.DataFrame:
    start, end = pd.Timestamp(PERIOD_START), pd.Timestamp(PERIOD_END)
    subs = subscriptions[
        (subscriptions.started_at < end)
        & (subscriptions.ended_at.isna() | (subscriptions.ended_at > start))
    ].copy()
    subs["segment_start"] = subs.started_at.clip(lower=start)
    subs["segment_end"] = subs.ended_at.fillna(end).clip(upper=end)
    in_effect = plans[plans.effective_from <= start].groupby("plan_id").plan_version.max()
    subs["plan_version"] = subs.plan_id.map(in_effect)
    return subs


def _usage(events: pd.DataFrame) -> pd.DataFrame:
    """Quantity per subscription and meter, long format."""
    # Parquet carries properties as JSON text, JSON Lines as already-parsed objects.
    properties = events.properties.map(lambda p: json.loads(p) if isinstance(p, str) else p)
    events = events.assign(
        tier=properties.str.get("tier"),
        gb=pd.to_numeric(properties.str.get("gb")),
        user_id=properties.str.get("user_id"),
    )
    by_type = {kind: rows.groupby("subscription_id") for kind, rows in events.groupby("event_type")}
    api = events[events.event_type == "api_call"]
    meters = {
        "api_calls": by_type["api_call"].size(),
        "premium_api_calls": api[api.tier == "premium"].groupby("subscription_id").size(),
        "storage_gb": by_type["storage_snapshot"].gb.max(),
        "compute_minutes": by_type["compute_job"].quantity.sum(),
        "active_users": by_type["user_login"].user_id.nunique(),
    }
    wide = pd.DataFrame(meters).fillna(0).rename_axis("subscription_id").reset_index()
    return wide.melt(id_vars="subscription_id", var_name="meter_id", value_name="quantity")


def _price(usage: pd.DataFrame, charges: pd.DataFrame, tiers: pd.DataFrame) -> float:
    rated = usage.merge(charges, on=["plan_id", "plan_version", "meter_id"])
    per_unit = rated[rated.charge_model == "per_unit"]
    total = float((per_unit.quantity * per_unit.unit_price.astype(float)).sum())
    graduated = (
        rated[rated.charge_model == "graduated"]
        .drop(columns="unit_price")
        .merge(tiers, on=["plan_id", "plan_version", "meter_id"])
    )
    lower = graduated.lower_bound.astype(float)
    upper = graduated.up_to.astype(float).fillna(float("inf"))
    reached = (graduated.tier_index == 1) | (graduated.quantity > lower)
    in_tier = (graduated.quantity.clip(upper=upper) - lower).clip(lower=0)
    amounts = in_tier * graduated.unit_price.astype(float) + graduated.flat_fee.astype(float)
    return total + float(amounts[reached].sum())


def pandas_script(
    conn: duckdb.DuckDBPyConnection, files: list[Path], subscriptions_csv: Path
) -> float:
    """The period's usage amount the way a straightforward pandas script gets it."""
    events = _read_events(conn, files).drop_duplicates("event_id")
    events["event_timestamp"] = pd.to_datetime(
        events["timestamp"], utc=True, format="ISO8601"
    ).dt.tz_localize(None)
    subscriptions = pd.read_csv(subscriptions_csv)
    for column in ("started_at", "ended_at"):
        subscriptions[column] = pd.to_datetime(
            subscriptions[column], utc=True, format="ISO8601"
        ).dt.tz_localize(None)
    plans = conn.execute("select * from wh.raw.plans").df()
    plans["effective_from"] = pd.to_datetime(plans.effective_from)
    segments = _segments(subscriptions, plans)
    located = events.merge(segments, on="customer_id")
    located = located[
        (located.event_timestamp >= located.segment_start)
        & (located.event_timestamp < located.segment_end)
    ]
    usage = _usage(located).merge(
        segments[["subscription_id", "plan_id", "plan_version"]], on="subscription_id"
    )
    charges = conn.execute(
        "select plan_id, plan_version, meter_id, charge_model, unit_price "
        "from wh.raw.plan_charges where customer_id is null"
    ).df()
    tiers = conn.execute(
        "select plan_id, plan_version, meter_id, tier_index, lower_bound, up_to, unit_price, "
        "flat_fee from wh.raw.charge_tiers where customer_id is null"
    ).df()
    return _price(usage, charges, tiers)
