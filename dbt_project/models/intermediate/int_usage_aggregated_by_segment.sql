{#
  Rule 2: per segment and meter, the meter's aggregation over its matched
  events. count ignores quantity; sum/max/latest skip events without a numeric
  value; unique_count counts distinct values; latest takes the value of the
  last event by timestamp, a tie broken by the greater event_id.
#}
with

matched as (
    select * from {{ ref('int_usage_events_matched_to_meters') }}
),

ranked as (
    select
        *,
        case
            when meter_value is null then null
            else row_number() over (
                partition by segment_id, meter_id, case when meter_value is null then 0 else 1 end
                order by event_timestamp desc, event_id desc
            )
        end as recency_rank
    from matched
)

select
    segment_id,
    meter_id,
    cast(
        case max(aggregation)
            when 'count' then count(*)
            when 'sum' then coalesce(sum(meter_value), 0)
            when 'max' then coalesce(max(meter_value), 0)
            when 'unique_count' then count(distinct meter_value_text)
            when 'latest' then coalesce(max(case when recency_rank = 1 then meter_value end), 0)
        end
    as {{ exact_type() }}) as quantity,
    count(*) as event_count,
    cast(coalesce(sum(meter_value), 0) as {{ exact_type() }}) as value_sum
from ranked
group by segment_id, meter_id
