{#
  The period's billable events (already deduplicated and validated at load),
  each tied to the subscription segment in effect at its timestamp.
#}
with

events as (
    select * from {{ ref('stg_usage_events') }}
    where event_timestamp >= {{ period_start_ts() }}
        and event_timestamp < {{ period_end_ts() }}
),

segments as (
    select * from {{ ref('int_subscription_segments_clipped') }}
)

select
    events.event_id,
    events.customer_id,
    events.event_type,
    events.event_timestamp,
    events.quantity,
    events.properties,
    segments.segment_id,
    segments.subscription_id,
    events.source_file,
    events.source_line,
    events.loaded_at,
    {{ period_start_date() }} as period_start
from events
left join segments
    on segments.customer_id = events.customer_id
    and events.event_timestamp >= segments.segment_start
    and events.event_timestamp < segments.segment_end
