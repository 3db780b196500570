{#
  Rule 2: per segment and meter, the meter's aggregation over its matched
  events. count ignores quantity; sum/max/latest skip events without a numeric
  value; unique_count counts distinct values; latest takes the value of the
  last event by timestamp, a tie broken by the greater event_id.

  Every charge model reads it, so the period's events are aggregated once.
  Incremental by period, so a later run for another period (reconciliation
  after a sync, say) still finds this period's rows.

  A re-run of the period (macros/batch_incremental.sql) adds up: a count, sum
  or max meter's total is what the period held plus the events of loads newer
  than the newest it held (a row's through_load_id is the load of its newest
  events). unique_count and latest cannot be added to (a value seen again, an
  earlier event), so those meters are aggregated again over the period's
  events. A changed basis (the matched events' own, or this SQL) aggregates
  the whole period again.
#}
{% set additive = "('count', 'sum', 'max')" %}
{% set adds_to_held = batch_incremental() %}

with

basis as (
    select {{ basis_fingerprint([upstream_basis(ref('int_usage_events_matched_to_meters'))]) }} as basis_fingerprint
),

-- Each part below reads the matched events itself, with its own filter: a CTE read
-- by several would be materialized, every column of every event of the period.
new_matched as (
    select * from {{ ref('int_usage_events_matched_to_meters') }}
    where period_start = {{ period_start_date() }}
    {% if adds_to_held %}
        and load_id > {{ held_through_load_id('through_load_id') }}
    {% endif %}
),

-- count, sum and max: the new events' totals, added to those held.
additive_parts as (
    select
        segment_id,
        meter_id,
        max(aggregation) as aggregation,
        count(*) as event_count,
        sum(meter_value) as value_sum,
        max(meter_value) as value_max,
        max(load_id) as through_load_id
    from new_matched
    where aggregation in {{ additive }}
    group by segment_id, meter_id
    {% if adds_to_held %}
    union all
    select segment_id, meter_id, aggregation, event_count, value_sum, value_max, through_load_id
    from {{ held_rows() }} as held
    where aggregation in {{ additive }}
    {% endif %}
),

additive_totals as (
    select
        segment_id,
        meter_id,
        max(aggregation) as aggregation,
        cast(sum(event_count) as bigint) as event_count,
        sum(value_sum) as value_sum,
        max(value_max) as value_max,
        cast(null as bigint) as distinct_values,
        max(through_load_id) as through_load_id
    from additive_parts
    group by segment_id, meter_id
),

-- unique_count and latest: over all the period's events of those meters.
-- Apart from count, sum and max meters, so that the distinct count reads only
-- these meters' events: one aggregate of every event took 5.9-6.4 s at 10M
-- events, against 3.8-4.0 s.
recounted as (
    select
        segment_id,
        meter_id,
        max(aggregation) as aggregation,
        count(*) as event_count,
        sum(meter_value) as value_sum,
        max(meter_value) as value_max,
        count(distinct case when aggregation = 'unique_count' then meter_value_text end) as distinct_values,
        max(load_id) as through_load_id
    from {{ ref('int_usage_events_matched_to_meters') }}
    where period_start = {{ period_start_date() }}
        and aggregation not in {{ additive }}
    group by segment_id, meter_id
),

-- Ranked apart, and only for 'latest' meters: ordering every event of the
-- period would cost a sort of all of them.
latest_values as (
    select segment_id, meter_id, meter_value
    from (
        select
            segment_id,
            meter_id,
            meter_value,
            row_number() over (
                partition by segment_id, meter_id
                order by event_timestamp desc, event_id desc
            ) as recency_rank
        from {{ ref('int_usage_events_matched_to_meters') }}
        where period_start = {{ period_start_date() }}
            and aggregation = 'latest'
            and meter_value is not null
    ) as ranked
    where recency_rank = 1
),

aggregated as (
    select * from additive_totals
    union all
    select * from recounted
)

select
    aggregated.segment_id,
    aggregated.meter_id,
    cast(
        case aggregated.aggregation
            when 'count' then aggregated.event_count
            when 'sum' then coalesce(aggregated.value_sum, 0)
            when 'max' then coalesce(aggregated.value_max, 0)
            when 'unique_count' then aggregated.distinct_values
            when 'latest' then coalesce(latest_values.meter_value, 0)
        end
    as {{ exact_type() }}) as quantity,
    aggregated.event_count,
    cast(coalesce(aggregated.value_sum, 0) as {{ exact_type() }}) as value_sum,
    aggregated.aggregation,
    cast(aggregated.value_max as {{ exact_type() }}) as value_max,
    aggregated.through_load_id,
    basis.basis_fingerprint,
    {{ period_start_date() }} as period_start
from aggregated
cross join basis
left join latest_values
    on latest_values.segment_id = aggregated.segment_id
    and latest_values.meter_id = aggregated.meter_id
