{#
  Each billable event of the period paired with every meter it feeds: same
  event_type, and every property filter of the meter equal (as text, or by
  value when both sides are numbers). meter_value is what sum/max/latest
  aggregate: the quantity, or the named property when it is numeric (else
  NULL, so the event adds nothing to that meter). meter_value_text is what
  unique_count counts, the value as text; NULL for the other aggregations,
  which never read it (computing and writing it for every event was about
  a third of the model's time at 10M events).

  Batch-incremental (macros/batch_incremental.sql), every period kept: a
  re-run matches the events of newer loads, unless the events' own basis
  (their segments), the meters or their filters changed, when it matches the
  period's events again.
#}
{# The basis as a template: the `basis` CTE below renders it, and so does
   period_batches' delete (macros/batch_incremental.sql), which needs it when the
   new rows are none. #}
{% set basis %}{% raw %}
    select {{ basis_fingerprint([
        upstream_basis(ref('fct_usage_events')),
        "(select " ~ sorted_text_agg("concat(meter_id, ',', event_type, ',', aggregation, ',', meter_field, ',', coalesce(property_name, ''))") ~ " from " ~ ref('stg_meters') ~ ")",
        "(select " ~ sorted_text_agg("concat(meter_id, ',', property_name, ',', property_value)") ~ " from " ~ ref('stg_meter_filters') ~ ")",
    ]) }} as basis_fingerprint
{% endraw %}{% endset %}
{{ config(basis=basis) }}
{% set adds_to_held = batch_incremental() %}
{# The events to match: the period's, or on a re-run those of newer loads. #}
{% set period_events %}
    select * from {{ ref('fct_usage_events') }}
    where period_start = {{ period_start_date() }}
    {% if adds_to_held %}
        and load_id > (select through_load_id from held)
    {% endif %}
{% endset %}

with

meters as (
    select * from {{ ref('stg_meters') }}
),

filters as (
    select * from {{ ref('stg_meter_filters') }}
),

basis as (
    {{ render(basis) }}
),

{% if adds_to_held %}
-- The newest load matched for the period: looked up once for both readers of
-- the events below.
held as (
    select {{ held_through_load_id('load_id') }} as through_load_id
),
{% endif %}

events as (
    {{ period_events }}
),

candidates as (
    select
        events.event_id,
        events.segment_id,
        events.customer_id,
        events.event_timestamp,
        events.quantity,
        events.properties,
        events.load_id,
        meters.meter_id,
        meters.aggregation,
        meters.meter_field,
        meters.property_name
    from events
    inner join meters
        on meters.event_type = events.event_type
),

-- Each meter with filters and each distinct properties text of its events that
-- misses one of them. Checked once per text, not per event: a NOT EXISTS per
-- (event, meter) made DuckDB keep every candidate row, every column, for a
-- join back (at 100M events the model took 339 s with it, 174 s without). The
-- events are read again rather than through a CTE, which two readers would
-- materialize.
filter_misses as (
    select distinct texts.meter_id, texts.properties
    from (
        select distinct meters.meter_id, events.properties
        from ({{ period_events }}) as events
        inner join meters
            on meters.event_type = events.event_type
        where meters.meter_id in (select meter_id from filters)
    ) as texts
    inner join filters
        on filters.meter_id = texts.meter_id
    where coalesce(
        {{ json_text('texts.properties', 'filters.property_name') }} = filters.property_value
        or try_cast({{ json_text('texts.properties', 'filters.property_name') }} as {{ exact_type() }})
            = try_cast(filters.property_value as {{ exact_type() }}),
        false
    ) = false
)

select
    candidates.event_id,
    candidates.segment_id,
    candidates.customer_id,
    candidates.meter_id,
    candidates.aggregation,
    candidates.event_timestamp,
    case
        when candidates.meter_field = 'quantity' then candidates.quantity
        else try_cast({{ json_text('candidates.properties', 'candidates.property_name') }} as {{ exact_type() }})
    end as meter_value,
    case
        when candidates.aggregation <> 'unique_count' then null
        when candidates.meter_field = 'quantity' then {{ decimal_text('candidates.quantity') }}
        else {{ json_text('candidates.properties', 'candidates.property_name') }}
    end as meter_value_text,
    candidates.load_id,
    basis.basis_fingerprint,
    {{ period_start_date() }} as period_start
from candidates
cross join basis
-- No filter of the meter that the event misses (properties is never NULL: '{}'
-- when the event has none).
left join filter_misses
    on filter_misses.meter_id = candidates.meter_id
    and filter_misses.properties = candidates.properties
where filter_misses.meter_id is null
