{#
  Usage per customer, meter and day (UTC), for the period of the run: how many
  events each meter matched that day and the day's quantity under the meter's
  own aggregation (count: events; sum: summed value; max: peak value;
  unique_count: distinct values; latest: the day's last value, a timestamp
  tie broken by the greater event_id). Events whose property is missing or
  not numeric count as events but add nothing to sum, max or latest.

  Period-incremental like fct_usage_events: a re-run of the period
  (macros/batch_incremental.sql) writes only the days the new loads' events
  fall on. A count, sum or max day is what it held plus the new events; a
  unique_count or latest day is aggregated again over its events. A changed
  basis writes every day of the period again.
#}
{% set additive = "('count', 'sum', 'max')" %}
{% set adds_to_held = batch_incremental() %}
{% set event_columns %}
    event_id,
    customer_id,
    meter_id,
    aggregation,
    event_timestamp,
    cast(event_timestamp as date) as usage_date,
    meter_value,
    meter_value_text,
    load_id
{% endset %}

{# The basis as a template: the `basis` CTE below renders it, and so does
   period_batches' delete (macros/batch_incremental.sql), which needs it when the
   new rows are none. #}
{% set basis %}{% raw %}
    select {{ basis_fingerprint([upstream_basis(ref('int_usage_events_matched_to_meters'))]) }} as basis_fingerprint
{% endraw %}{% endset %}
{{ config(basis=basis) }}

with

basis as (
    {{ render(basis) }}
),

new_matched as (
    select {{ event_columns }}
    from {{ ref('int_usage_events_matched_to_meters') }}
    where period_start = {{ period_start_date() }}
    {% if adds_to_held %}
        and load_id > {{ held_through_load_id('through_load_id') }}
    {% endif %}
),

{% if adds_to_held %}
-- The days the new events fall on: only they are written again.
touched_days as (
    select distinct customer_id, meter_id, usage_date
    from new_matched
),
{% endif %}

-- The period's events of unique_count and latest meters (on a re-run, of the
-- days touched): their days are aggregated again. Joined to the days by value:
-- an EXISTS on the event's date is planned per distinct timestamp. Apart from
-- count, sum and max meters, so that the distinct count reads only these
-- meters' events (as in int_usage_aggregated_by_segment).
recounted_events as (
    select events.*
    from (
        select {{ event_columns }}
        from {{ ref('int_usage_events_matched_to_meters') }}
        where period_start = {{ period_start_date() }}
            and aggregation not in {{ additive }}
    ) as events
    {% if adds_to_held %}
    inner join touched_days
        on touched_days.customer_id = events.customer_id
        and touched_days.meter_id = events.meter_id
        and touched_days.usage_date = events.usage_date
    {% endif %}
),

meters as (
    select * from {{ ref('stg_meters') }}
),

-- count, sum and max: the new events' days, added to the same days held.
additive_parts as (
    select
        customer_id,
        meter_id,
        usage_date,
        count(*) as event_count,
        sum(meter_value) as value_sum,
        max(meter_value) as value_max,
        max(load_id) as through_load_id
    from new_matched
    where aggregation in {{ additive }}
    group by customer_id, meter_id, usage_date
    {% if adds_to_held %}
    union all
    select
        held.customer_id,
        held.meter_id,
        held.usage_date,
        held.event_count,
        case when held.aggregation = 'sum' then held.daily_quantity end as value_sum,
        case when held.aggregation = 'max' then held.daily_quantity end as value_max,
        held.through_load_id
    from {{ held_rows() }} as held
    inner join touched_days
        on touched_days.customer_id = held.customer_id
        and touched_days.meter_id = held.meter_id
        and touched_days.usage_date = held.usage_date
    where held.aggregation in {{ additive }}
    {% endif %}
),

daily as (
    select
        customer_id,
        meter_id,
        usage_date,
        cast(sum(event_count) as bigint) as event_count,
        sum(value_sum) as value_sum,
        max(value_max) as value_max,
        cast(null as bigint) as distinct_values,
        max(through_load_id) as through_load_id
    from additive_parts
    group by customer_id, meter_id, usage_date
    union all
    select
        customer_id,
        meter_id,
        usage_date,
        count(*) as event_count,
        sum(meter_value) as value_sum,
        max(meter_value) as value_max,
        count(distinct case when aggregation = 'unique_count' then meter_value_text end) as distinct_values,
        max(load_id) as through_load_id
    from recounted_events
    group by customer_id, meter_id, usage_date
),

latest_ranked as (
    select
        customer_id,
        meter_id,
        usage_date,
        meter_value,
        row_number() over (
            partition by customer_id, meter_id, usage_date
            order by event_timestamp desc, event_id desc
        ) as recency
    from recounted_events
    where aggregation = 'latest'
        and meter_value is not null
)

select
    concat(daily.customer_id, ':', daily.meter_id, ':', cast(daily.usage_date as {{ dbt.type_string() }})) as usage_daily_id,
    daily.customer_id,
    daily.meter_id,
    meters.meter_name,
    meters.meter_unit,
    meters.aggregation,
    daily.usage_date,
    {{ period_start_date() }} as period_start,
    cast(daily.event_count as bigint) as event_count,
    cast(
        case meters.aggregation
            when 'count' then daily.event_count
            when 'sum' then coalesce(daily.value_sum, 0)
            when 'max' then daily.value_max
            when 'unique_count' then daily.distinct_values
            when 'latest' then latest_ranked.meter_value
        end
    as {{ exact_type() }}) as daily_quantity,
    daily.through_load_id,
    basis.basis_fingerprint
from daily
cross join basis
inner join meters
    on meters.meter_id = daily.meter_id
left join latest_ranked
    on latest_ranked.customer_id = daily.customer_id
    and latest_ranked.meter_id = daily.meter_id
    and latest_ranked.usage_date = daily.usage_date
    and latest_ranked.recency = 1
