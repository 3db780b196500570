{#
  Usage per customer, meter and day (UTC), for the period of the run: how many
  events each meter matched that day and the day's quantity under the meter's
  own aggregation (count: events; sum: summed value; max: peak value;
  unique_count: distinct values; latest: the day's last value, a timestamp
  tie broken by the greater event_id). Events whose property is missing or
  not numeric count as events but add nothing to sum, max or latest.

  Period-incremental like fct_usage_events (dbt_project.yml: the period's rows
  replaced), so a period's days are rebuilt whenever the period is billed again.
#}
with

matched as (
    select
        event_id,
        customer_id,
        meter_id,
        aggregation,
        event_timestamp,
        cast(event_timestamp as date) as usage_date,
        meter_value,
        meter_value_text
    from {{ ref('int_usage_events_matched_to_meters') }}
),

meters as (
    select * from {{ ref('stg_meters') }}
),

daily as (
    select
        customer_id,
        meter_id,
        usage_date,
        count(*) as event_count,
        sum(meter_value) as value_sum,
        max(meter_value) as value_max,
        count(distinct case when aggregation = 'unique_count' then meter_value_text end) as distinct_values
    from matched
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
    from matched
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
    as {{ exact_type() }}) as daily_quantity
from daily
inner join meters
    on meters.meter_id = daily.meter_id
left join latest_ranked
    on latest_ranked.customer_id = daily.customer_id
    and latest_ranked.meter_id = daily.meter_id
    and latest_ranked.usage_date = daily.usage_date
    and latest_ranked.recency = 1
