"""The set-based SQL that turns staged rows into loaded, duplicate and quarantined events.

Input is the temp table `landing_rows` (see `event_sources`); parameters are
`$as_of`, `$future_limit`, `$tolerance_minutes` and `$source_file`. Reference
tables (`raw.customers`, `raw.meters`, `raw.subscriptions`) must be loaded.
"""


def json_kind(expression: str) -> str:
    """SQL naming the JSON type of `expression` for people: 'an array', 'a string', ..."""
    return (
        f"case json_type({expression}) when 'ARRAY' then 'an array' when 'VARCHAR' then 'a string' "
        f"when 'BOOLEAN' then 'a boolean' when 'NULL' then 'null' else 'a number' end"
    )


# Validation in SPEC order: the first rule a row breaks is its reason.
CHECK_SQL = f"""
create or replace temp table landing_checked as
with parsed as (
    select *,
           try_cast(event_time as timestamptz) as event_tstz,
           coalesce(try_cast(quantity as decimal(38, 12)), case when quantity is null then 1 end)
               as event_quantity
    from landing_rows
),
typed as (
    select * exclude (event_tstz),
           case when isfinite(event_tstz) then timezone('UTC', event_tstz) end as event_timestamp
    from parsed
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
               when properties is not null and case
                   when not json_valid(properties) then true
                   when json_type(properties) <> 'OBJECT' then true
                   else len(json_keys(properties)) <> len(list_distinct(json_keys(properties)))
               end then 'invalid_properties'
               when customer_id not in (select customer_id from raw.customers)
                   then 'unknown_customer'
               when event_type not in (select event_type from raw.meters)
                   then 'unknown_event_type'
               when not exists (
                   select 1 from raw.subscriptions as s
                   where s.customer_id = typed.customer_id
                     and s.started_at <= typed.event_timestamp
                     and (s.ended_at is null or typed.event_timestamp < s.ended_at)
               ) then 'no_active_subscription'
           end as reason
    from typed
)
select *,
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
           when 'invalid_properties' then case
               when not json_valid(properties)
                   then printf('properties ''%s'' is not valid JSON', properties)
               when json_type(properties) <> 'OBJECT'
                   then 'properties must be a JSON object, got ' || {json_kind("properties")}
               else 'properties repeats a key' end
           when 'unknown_customer'
               then printf('customer ''%s'' is not in customers.csv', customer_id)
           when 'unknown_event_type'
               then printf('event_type ''%s'' is not the event type of any meter', event_type)
           when 'no_active_subscription'
               then printf('customer ''%s'' has no subscription active at %s UTC',
                           customer_id, event_timestamp::varchar)
       end as detail
from reasons
"""

# Rows that passed validation, classified against the file's earlier rows and the
# events already loaded: the first occurrence of an event_id wins.
DEDUP_SQL = """
create or replace temp table landing_decided as
with valid as (
    select *,
           '{' || array_to_string(list_transform(
               list_sort(map_entries(json_transform(coalesce(properties, '{}'),
                                                    '"MAP(VARCHAR, JSON)"'))),
               entry -> to_json(entry.key) || ':' || case
                   when json_type(entry.value) = 'DOUBLE'
                        and entry.value::double = trunc(entry.value::double)
                        and abs(entry.value::double) < 9007199254740992
                       then entry.value::double::bigint::varchar
                   else coalesce(json(entry.value), 'null')
               end
           ), ',') || '}' as canonical_properties
    from landing_checked
    where reason is null
),
hashed as (
    select *,
           md5(to_json([customer_id, event_type,
                        strftime(event_timestamp, '%Y-%m-%dT%H:%M:%S.%f'),
                        event_quantity::varchar, canonical_properties])) as payload_hash
    from valid
),
ranked as (
    select *,
           first_value(source_line) over same_event as first_line,
           first_value(payload_hash) over same_event as first_hash
    from hashed
    window same_event as (partition by event_id order by source_line)
)
select ranked.*,
       coalesce(earlier.source_file, $source_file) as winner_file,
       coalesce(earlier.source_line, ranked.first_line) as winner_line,
       case
           when earlier.event_id is null and ranked.source_line = ranked.first_line then 'loaded'
           when coalesce(earlier.payload_hash, ranked.first_hash) = ranked.payload_hash
               then 'duplicate'
           else 'conflict'
       end as outcome
from ranked
left join raw.usage_events as earlier on earlier.event_id = ranked.event_id
"""

INSERT_LOADED_SQL = """
insert into raw.usage_events
    (event_id, customer_id, event_type, event_timestamp, quantity, properties, payload_hash,
     source_file, source_line, loaded_at)
select event_id, customer_id, event_type, event_timestamp, event_quantity, canonical_properties,
       payload_hash, $source_file, source_line, $as_of
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
