"""The set-based SQL that turns staged rows into loaded, duplicate and quarantined events.

Input is `landing_rows` (see `event_sources`) with the macro
`landing_payload(original)`; parameters are `$as_of`, `$future_limit`,
`$tolerance_minutes`, `$source_file` and `$load_id`. Reference tables (`raw.customers`,
`raw.meters`, `raw.subscriptions`) must be loaded.

Where the time goes, and why the statements are shaped as they are:

- `properties` texts repeat (an endpoint, a region), so each distinct text is
  validated and canonicalized once (`landing_properties`) and joined back.
- Reference checks are hash joins (an OR in a join condition would make the
  subscription check a nested loop). `raw.subscriptions` holds at most one row
  active at any instant per customer (the reference loader refuses overlaps),
  so the join keeps one row per event; the per-file count check would refuse
  a file whose rows it multiplied.
- Dedup touches only the event_ids that collide: repeated within the file's
  valid rows, or already in `raw.usage_events`. Everything else is loaded
  without comparing payloads. Colliding rows compare their parsed values
  (customer, type, timestamp, quantity, canonical properties) with the
  first occurrence's: equal is a duplicate, different a conflict.
- A raw payload is rendered only for a row that is quarantined.
"""


def json_kind(expression: str) -> str:
    """SQL naming the JSON type of `expression` for people: 'an array', 'a string', ..."""
    return (
        f"case json_type({expression}) when 'ARRAY' then 'an array' when 'VARCHAR' then 'a string' "
        f"when 'BOOLEAN' then 'a boolean' when 'NULL' then 'null' else 'a number' end"
    )


# The stored form of a properties object: top-level keys sorted, top-level whole
# numbers without a fraction (1.0 -> 1), so payloads equal by value compare equal.
CANONICAL_PROPERTIES = """
'{' || array_to_string(list_transform(
    list_sort(map_entries(json_transform(properties, '"MAP(VARCHAR, JSON)"'))),
    entry -> to_json(entry.key) || ':' || case
        when json_type(entry.value) = 'DOUBLE'
             and entry.value::double = trunc(entry.value::double)
             and abs(entry.value::double) < 9007199254740992
            then entry.value::double::bigint::varchar
        else coalesce(json(entry.value), 'null')
    end
), ',') || '}'
"""

PROPERTIES_SQL = f"""
create or replace temp table landing_properties as
with texts as (
    select distinct properties from landing_rows where properties is not null
),
checked as (
    select properties,
           case
               when not json_valid(properties)
                   then printf('properties ''%s'' is not valid JSON', properties)
               when json_type(properties) <> 'OBJECT'
                   then 'properties must be a JSON object, got ' || {json_kind("properties")}
               when len(json_keys(properties)) <> len(list_distinct(json_keys(properties)))
                   then 'properties repeats a key'
           end as problem
    from texts
)
select properties, problem,
       case when problem is null then {CANONICAL_PROPERTIES} end as canonical_properties
from checked
"""

# Validation in SPEC order: the first rule a row breaks is its reason.
# A quantity that fits DECIMAL(18, 12) is parsed as one: the same value, ~20x
# faster than DuckDB's text-to-DECIMAL(38, 12) cast, which only the rest need.
# The UTC wall time of an instant is its epoch microseconds as a TIMESTAMP
# (the same value as `timezone('UTC', ...)`, without a time zone library call).
CHECK_SQL = """
create or replace temp table landing_checked as
with parsed as (
    select rows.source_line, rows.malformed, rows.event_id, rows.customer_id, rows.event_type,
           rows.event_time, rows.quantity, rows.properties, rows.original,
           try_cast(rows.event_time as timestamptz) as event_tstz,
           coalesce(try_cast(rows.quantity as decimal(18, 12))::decimal(38, 12),
                    try_cast(rows.quantity as decimal(38, 12)),
                    case when rows.quantity is null then 1 end) as event_quantity,
           props.problem as properties_problem,
           case when rows.properties is null then '{}' else props.canonical_properties end
               as canonical_properties
    from landing_rows as rows
    left join landing_properties as props on props.properties = rows.properties
),
typed as (
    select * exclude (event_tstz),
           case when isfinite(event_tstz) then make_timestamp(epoch_us(event_tstz)) end
               as event_timestamp
    from parsed
),
located as (
    select typed.*,
           customers.customer_id is not null as known_customer,
           meters.event_type is not null as known_event_type,
           subscriptions.customer_id is not null as subscribed
    from typed
    left join raw.customers as customers on customers.customer_id = typed.customer_id
    left join (select distinct event_type from raw.meters) as meters
        on meters.event_type = typed.event_type
    left join raw.subscriptions as subscriptions
        on subscriptions.customer_id = typed.customer_id
       and subscriptions.started_at <= typed.event_timestamp
       and typed.event_timestamp < coalesce(subscriptions.ended_at, 'infinity'::timestamp)
),
reasons as (
    select *,
           case
               when malformed is not null then 'malformed_row'
               when event_id is null or customer_id is null or event_type is null
                    or event_time is null then 'missing_field'
               when event_timestamp is null then 'invalid_timestamp'
               when event_timestamp > $future_limit then 'future_timestamp'
               when event_quantity is null or event_quantity < 0 then 'invalid_quantity'
               when properties_problem is not null then 'invalid_properties'
               when not known_customer then 'unknown_customer'
               when not known_event_type then 'unknown_event_type'
               when not subscribed then 'no_active_subscription'
           end as reason
    from located
)
select source_line, event_id, customer_id, event_type, event_timestamp, event_quantity,
       case when reason is null then canonical_properties end as canonical_properties,
       reason,
       case reason
           when 'malformed_row' then malformed
           when 'missing_field' then 'missing required field(s): ' || concat_ws(', ',
               case when event_id is null then 'event_id' end,
               case when customer_id is null then 'customer_id' end,
               case when event_type is null then 'event_type' end,
               case when event_time is null then 'timestamp' end)
           when 'invalid_timestamp'
               then printf('timestamp ''%s'' is not an ISO 8601 timestamp', event_time)
           when 'future_timestamp'
               then printf('timestamp %s UTC is more than %s minutes after as-of %s UTC',
                           event_timestamp::varchar, $tolerance_minutes::varchar, $as_of::varchar)
           when 'invalid_quantity' then case
               when event_quantity is null then printf('quantity ''%s'' is not a number', quantity)
               else printf('quantity %s is negative', quantity) end
           when 'invalid_properties' then properties_problem
           when 'unknown_customer'
               then printf('customer ''%s'' is not in customers.csv', customer_id)
           when 'unknown_event_type'
               then printf('event_type ''%s'' is not the event type of any meter', event_type)
           when 'no_active_subscription'
               then printf('customer ''%s'' has no subscription active at %s UTC',
                           customer_id, event_timestamp::varchar)
       end as detail,
       case when reason is not null then landing_payload(original) end as raw_payload
from reasons
"""

# The loaded events that share an event_id with this file's valid rows: one scan
# of raw.usage_events, probing a hash table of the file's ids.
EARLIER_SQL = """
create or replace temp table landing_earlier as
select event_id, source_file, source_line,
       struct_pack(customer_id, event_type, event_timestamp, quantity, properties) as payload
from raw.usage_events
where event_id in (select event_id from landing_checked where reason is null)
"""

# Valid rows whose event_id collides, classified: the first occurrence of an
# event_id (already loaded, else the file's earliest line) wins.
DECIDE_SQL = """
create or replace temp table landing_decided as
with repeated as (
    select event_id from landing_checked
    where reason is null
    group by event_id
    having count(*) > 1
),
contenders as (
    select source_line, event_id, customer_id, event_type, event_timestamp, event_quantity,
           canonical_properties,
           struct_pack(customer_id, event_type, event_timestamp, quantity := event_quantity,
                       properties := canonical_properties) as payload
    from landing_checked
    where reason is null
      and event_id in (select event_id from repeated
                       union all
                       select event_id from landing_earlier)
),
ranked as (
    select *,
           first_value(source_line) over same_event as first_line,
           first_value(payload) over same_event as first_payload
    from contenders
    window same_event as (partition by event_id order by source_line)
),
decided as (
    select ranked.* exclude (payload, first_payload),
           coalesce(earlier.source_file, $source_file) as winner_file,
           coalesce(earlier.source_line, ranked.first_line) as winner_line,
           case
               when earlier.event_id is null and ranked.source_line = ranked.first_line
                   then 'loaded'
               when coalesce(earlier.payload, ranked.first_payload) = ranked.payload
                   then 'duplicate'
               else 'conflict'
           end as outcome
    from ranked
    left join landing_earlier as earlier on earlier.event_id = ranked.event_id
)
select decided.*,
       case when outcome = 'conflict' then landing_payload(rows.original) end as raw_payload
from decided
left join landing_rows as rows on rows.source_line = decided.source_line
"""

INSERT_LOADED_SQL = """
insert into raw.usage_events
    (event_id, customer_id, event_type, event_timestamp, quantity, properties,
     source_file, source_line, loaded_at, load_id)
select event_id, customer_id, event_type, event_timestamp, event_quantity, canonical_properties,
       $source_file, source_line, $as_of, $load_id
from landing_checked
anti join landing_decided using (event_id)
where reason is null
union all
select event_id, customer_id, event_type, event_timestamp, event_quantity, canonical_properties,
       $source_file, source_line, $as_of, $load_id
from landing_decided
where outcome = 'loaded'
"""

INSERT_DUPLICATES_SQL = """
insert into raw.duplicate_events (event_id, source_file, source_line, loaded_at)
select event_id, $source_file, source_line, $as_of
from landing_decided
where outcome = 'duplicate'
"""

INSERT_QUARANTINED_SQL = """
insert into raw.quarantined_events
    (source_file, source_line, reason, detail, event_id, raw_payload, quarantined_at)
select $source_file, source_line, reason, detail, event_id, raw_payload, $as_of
from landing_checked
where reason is not null
union all
select $source_file, source_line, 'conflict',
       printf('event_id ''%s'' was first loaded from %s line %s with a different payload',
              event_id, winner_file, winner_line::varchar),
       event_id, raw_payload, $as_of
from landing_decided
where outcome = 'conflict'
"""
