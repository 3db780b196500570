{#
  Usage alerts: a row each time a customer's usage of a meter crosses 80 %
  or 100 % of its limit in a period (usage_limits.csv).

  Usage to date is the meter's own aggregation over the period's events in
  time order (ties by event_id): a running count, sum, max, count of
  distinct values, or the latest value. crossed_at is the timestamp of the
  first event at which it reached the threshold; period_quantity is the
  usage at the end of the data loaded so far. Limits are per period and are
  not prorated across plan changes.
#}
{% set thresholds = [('80', '0.80'), ('100', '1.00')] %}

with

limits as (
    select * from {{ ref('stg_usage_limits') }}
),

-- Only the events of meters with a limit: the running totals below are window
-- functions over every such event, which the other customers need not pay for.
-- A join to the limited meters, not an EXISTS: for that DuckDB kept every event
-- of the period, every column, before filtering (4-5 s at 10M events with no
-- limit at all).
matched as (
    select events.*
    from {{ ref('int_usage_events_matched_to_meters') }} as events
    inner join (select distinct customer_id, meter_id from limits) as limited
        on limited.customer_id = events.customer_id
        and limited.meter_id = events.meter_id
    where events.period_start = {{ period_start_date() }}
),

numbered as (
    select
        matched.*,
        case
            when row_number() over (
                partition by customer_id, meter_id, meter_value_text
                order by event_timestamp, event_id
            ) = 1 and meter_value_text is not null then 1
            else 0
        end as is_first_of_value
    from matched
),

running as (
    select
        customer_id,
        meter_id,
        event_id,
        event_timestamp,
        case aggregation
            when 'count' then cast(count(*) over (
                partition by customer_id, meter_id order by event_timestamp, event_id
                rows between unbounded preceding and current row) as {{ exact_type() }})
            when 'sum' then coalesce(sum(meter_value) over (
                partition by customer_id, meter_id order by event_timestamp, event_id
                rows between unbounded preceding and current row), 0)
            when 'max' then max(meter_value) over (
                partition by customer_id, meter_id order by event_timestamp, event_id
                rows between unbounded preceding and current row)
            when 'unique_count' then cast(sum(is_first_of_value) over (
                partition by customer_id, meter_id order by event_timestamp, event_id
                rows between unbounded preceding and current row) as {{ exact_type() }})
            when 'latest' then meter_value
        end as usage_to_date,
        row_number() over (
            partition by customer_id, meter_id order by event_timestamp desc, event_id desc
        ) as recency_rank
    from numbered
),

period_usage as (
    select customer_id, meter_id, usage_to_date as period_quantity
    from running
    where recency_rank = 1
),

thresholds as (
    {% for label, fraction in thresholds %}
    select {{ label }} as threshold_percent, cast({{ fraction }} as decimal(3, 2)) as threshold_fraction
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

crossings as (
    select
        limits.customer_id,
        limits.meter_id,
        limits.limit_quantity,
        thresholds.threshold_percent,
        cast(limits.limit_quantity * thresholds.threshold_fraction as {{ exact_type() }}) as threshold_quantity,
        min(running.event_timestamp) as crossed_at
    from limits
    cross join thresholds
    inner join running
        on running.customer_id = limits.customer_id
        and running.meter_id = limits.meter_id
        and running.usage_to_date >= limits.limit_quantity * thresholds.threshold_fraction
    group by limits.customer_id, limits.meter_id, limits.limit_quantity, thresholds.threshold_percent, thresholds.threshold_fraction
)

select
    concat(crossings.customer_id, ':', '{{ var("period") }}', ':', crossings.meter_id, ':', cast(crossings.threshold_percent as {{ dbt.type_string() }})) as alert_id,
    crossings.customer_id,
    {{ period_start_date() }} as period_start,
    crossings.meter_id,
    crossings.limit_quantity,
    crossings.threshold_percent,
    crossings.threshold_quantity,
    crossings.crossed_at,
    period_usage.period_quantity
from crossings
inner join period_usage
    on period_usage.customer_id = crossings.customer_id
    and period_usage.meter_id = crossings.meter_id
