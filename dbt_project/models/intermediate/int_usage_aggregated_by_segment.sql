{#
  Rule 2: per segment and meter, the meter's aggregation over its matched
  events. count ignores quantity; sum/max/latest skip events without a numeric
  value; unique_count counts distinct values; latest takes the value of the
  last event by timestamp, a tie broken by the greater event_id.

  Every charge model reads it, so the period's events are aggregated once.
  Incremental by period, so a later run for another period (reconciliation
  after a sync, say) still finds this period's rows.
#}

with

matched as (
    select * from {{ ref('int_usage_events_matched_to_meters') }}
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
        from matched
        where aggregation = 'latest' and meter_value is not null
    ) as ranked
    where recency_rank = 1
),

aggregated as (
    select
        segment_id,
        meter_id,
        max(aggregation) as aggregation,
        count(*) as event_count,
        sum(meter_value) as value_sum,
        max(meter_value) as value_max,
        count(distinct case when aggregation = 'unique_count' then meter_value_text end) as distinct_values
    from matched
    group by segment_id, meter_id
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
    {{ period_start_date() }} as period_start
from aggregated
left join latest_values
    on latest_values.segment_id = aggregated.segment_id
    and latest_values.meter_id = aggregated.meter_id
