{#
  The period's billable events (already deduplicated and validated at load),
  each tied to the subscription segment in effect at its timestamp.

  Batch-incremental (macros/batch_incremental.sql): a re-run adds the events
  of newer loads, unless the period's segments changed since the period's
  rows were derived, when it derives them all again.
#}
{# The basis as a template: the `basis` CTE below renders it, and so does
   period_batches' delete (macros/batch_incremental.sql), which needs it when the
   new rows are none. #}
{% set basis %}{% raw %}
    select {{ basis_fingerprint([sorted_text_agg(
        "concat(segment_id, ',', subscription_id, ',', customer_id, ',', cast(segment_start as "
        ~ dbt.type_string() ~ "), ',', cast(segment_end as " ~ dbt.type_string() ~ "))"
    )]) }} as basis_fingerprint
    from {{ ref('int_subscription_segments_clipped') }}
{% endraw %}{% endset %}
{{ config(basis=basis) }}

with

segments as (
    select * from {{ ref('int_subscription_segments_clipped') }}
),

basis as (
    {{ render(basis) }}
),

events as (
    select * from {{ ref('stg_usage_events') }}
    where event_timestamp >= {{ period_start_ts() }}
        and event_timestamp < {{ period_end_ts() }}
    {% if batch_incremental() %}
        and load_id > {{ held_through_load_id('load_id') }}
    {% endif %}
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
    events.load_id,
    basis.basis_fingerprint,
    {{ period_start_date() }} as period_start
from events
cross join basis
left join segments
    on segments.customer_id = events.customer_id
    and events.event_timestamp >= segments.segment_start
    and events.event_timestamp < segments.segment_end
