{#
  Days on which a customer's meter went quiet: customer × meter × day (UTC),
  one row per flagged day.

  Rule. A customer × meter is followed from the first day it had events, on
  every day the customer has an active subscription, up to the day before the
  run's as-of (an unfinished day is never judged). Each day is compared with
  the 7 days before it (its trailing window, counted in followed days):
    - zero_events: no events that day, although every one of the 7 previous
      days had events and the stream was steady: at least 5 events a day on
      average (35 in the 7 days, so a quiet day is unlikely by chance), or
      the same number every day (a scheduled producer, such as a daily
      storage snapshot);
    - drop: events that day, but fewer than 20 % of the trailing daily
      average, when that average is at least 10 events a day
      (events × 7 × 5 < trailing events, so no division is needed).
  Days with less than 7 days of history are not judged. Events are counted
  as in fct_usage_daily: events each meter matched, after dedup and quarantine.
#}
with

daily as (
    select * from {{ ref('fct_usage_daily') }}
),

subscriptions as (
    select * from {{ ref('stg_subscriptions') }}
),

periods as (
    select distinct period_start from daily
),

day_offsets as (
    {{ dbt.generate_series(31) }}
),

days as (
    select cast({{ dbt.dateadd('day', 'day_offsets.generated_number - 1', 'periods.period_start') }} as date) as usage_date
    from periods
    cross join day_offsets
    where cast({{ dbt.dateadd('day', 'day_offsets.generated_number - 1', 'periods.period_start') }} as date)
        < {{ next_period_start('periods.period_start') }}
),

customer_days as (
    select distinct
        subscriptions.customer_id,
        days.usage_date
    from subscriptions
    inner join days
        on subscriptions.started_at < cast({{ dbt.dateadd('day', 1, 'days.usage_date') }} as timestamp)
        and (subscriptions.ended_at is null or subscriptions.ended_at > cast(days.usage_date as timestamp))
    where days.usage_date < cast({{ as_of_ts() }} as date)
),

followed as (
    select customer_id, meter_id, min(usage_date) as first_usage_date
    from daily
    group by customer_id, meter_id
),

series as (
    select
        followed.customer_id,
        followed.meter_id,
        customer_days.usage_date,
        coalesce(daily.event_count, 0) as event_count
    from followed
    inner join customer_days
        on customer_days.customer_id = followed.customer_id
        and customer_days.usage_date >= followed.first_usage_date
    left join daily
        on daily.customer_id = followed.customer_id
        and daily.meter_id = followed.meter_id
        and daily.usage_date = customer_days.usage_date
),

windowed as (
    select
        series.*,
        count(*) over previous_7_days as trailing_days,
        coalesce(sum(event_count) over previous_7_days, 0) as trailing_events,
        coalesce(sum(case when event_count > 0 then 1 else 0 end) over previous_7_days, 0) as trailing_active_days,
        min(event_count) over previous_7_days as trailing_min_events,
        max(event_count) over previous_7_days as trailing_max_events
    from series
    window previous_7_days as (
        partition by customer_id, meter_id
        order by usage_date
        rows between 7 preceding and 1 preceding
    )
),

judged as (
    select
        windowed.*,
        case
            when trailing_days = 7 and event_count = 0 and trailing_active_days = 7
                and (trailing_events >= 35 or trailing_min_events = trailing_max_events) then 'zero_events'
            when trailing_days = 7 and event_count > 0 and trailing_events >= 70 and event_count * 35 < trailing_events then 'drop'
        end as gap_kind
    from windowed
)

select
    concat(judged.customer_id, ':', judged.meter_id, ':', cast(judged.usage_date as {{ dbt.type_string() }})) as usage_gap_id,
    judged.customer_id,
    customers.name as customer_name,
    judged.meter_id,
    judged.usage_date,
    cast({{ dbt.date_trunc('month', 'judged.usage_date') }} as date) as period_start,
    judged.gap_kind,
    cast(judged.event_count as bigint) as event_count,
    cast(judged.trailing_events as bigint) as trailing_events,
    cast(judged.trailing_active_days as bigint) as trailing_active_days,
    {{ prorate('judged.trailing_events', 1, 7) }} as baseline_daily_events
from judged
left join {{ ref('dim_customers') }} as customers
    on customers.customer_id = judged.customer_id
where judged.gap_kind is not null
