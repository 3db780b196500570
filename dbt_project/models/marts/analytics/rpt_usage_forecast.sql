{#
  Month-end usage forecast for the period of the latest run (var('period')),
  as of that run's "now" (var('as_of')): customer × meter.

  Method (run rate): forecast = usage to date ÷ elapsed time × length of the
  period, time counted in seconds from the period's start to as-of (capped at
  the period's end). It applies to meters that add up over time (aggregation
  count or sum). A peak (max), latest value or distinct count does not grow
  linearly with time, so its forecast is the value to date. Once the period
  is over the forecast equals the actual usage.

  usage_to_date is the metered quantity rated so far (fct_rated_usage); a
  customer with two subscriptions in the period has their quantities added
  (the larger one for max and latest). projected_amount scales the rated
  amount to date the same way: a linear estimate that ignores tier bounds
  still to be crossed. Limits come from usage_limits.csv.
#}
with

rated as (
    select * from {{ ref('fct_rated_usage') }}
    where period_start = {{ period_start_date() }}
),

meters as (
    select * from {{ ref('stg_meters') }}
),

limits as (
    select * from {{ ref('stg_usage_limits') }}
),

currencies as (
    select * from {{ ref('currencies') }}
),

clock as (
    select
        {{ dbt.datediff(period_start_ts(), period_end_ts(), 'second') }} as seconds_in_period,
        greatest(
            {{ dbt.datediff(period_start_ts(), 'least(' ~ as_of_ts() ~ ', ' ~ period_end_ts() ~ ')', 'second') }},
            0
        ) as elapsed_seconds
),

rated_by_meter as (
    select
        rated.customer_id,
        rated.meter_id,
        max(rated.currency) as currency,
        sum(case when rated.tier_index = 1 then rated.quantity else 0 end) as quantity_summed,
        max(case when rated.tier_index = 1 then rated.quantity end) as quantity_largest,
        sum(rated.amount) as rated_amount
    from rated
    group by rated.customer_id, rated.meter_id
),

customers_in_period as (
    select customer_id, max(currency) as currency
    from rated
    group by customer_id
),

pairs as (
    select customer_id, meter_id from rated_by_meter
    union
    select limits.customer_id, limits.meter_id
    from limits
    inner join customers_in_period
        on customers_in_period.customer_id = limits.customer_id
),

to_date as (
    select
        pairs.customer_id,
        pairs.meter_id,
        meters.meter_name,
        meters.meter_unit,
        meters.aggregation,
        customers_in_period.currency,
        case
            when meters.aggregation in ('max', 'latest') then coalesce(rated_by_meter.quantity_largest, 0)
            else coalesce(rated_by_meter.quantity_summed, 0)
        end as usage_to_date,
        coalesce(rated_by_meter.rated_amount, 0) as rated_amount_to_date,
        limits.limit_quantity,
        case when meters.aggregation in ('count', 'sum') then 'run_rate' else 'to_date' end as forecast_method
    from pairs
    inner join meters
        on meters.meter_id = pairs.meter_id
    inner join customers_in_period
        on customers_in_period.customer_id = pairs.customer_id
    left join rated_by_meter
        on rated_by_meter.customer_id = pairs.customer_id
        and rated_by_meter.meter_id = pairs.meter_id
    left join limits
        on limits.customer_id = pairs.customer_id
        and limits.meter_id = pairs.meter_id
),

forecast as (
    select
        to_date.*,
        clock.seconds_in_period,
        clock.elapsed_seconds,
        case
            when to_date.forecast_method = 'run_rate' and clock.elapsed_seconds > 0
                then {{ prorate('to_date.usage_to_date', 'clock.seconds_in_period', 'clock.elapsed_seconds') }}
            else cast(to_date.usage_to_date as {{ exact_type() }})
        end as forecast_quantity,
        case
            when to_date.forecast_method = 'run_rate' and clock.elapsed_seconds > 0
                then {{ prorate('to_date.rated_amount_to_date', 'clock.seconds_in_period', 'clock.elapsed_seconds') }}
            else cast(to_date.rated_amount_to_date as {{ exact_type() }})
        end as projected_amount_exact
    from to_date
    cross join clock
)

select
    concat(forecast.customer_id, ':', forecast.meter_id, '@', '{{ var("period") }}') as usage_forecast_id,
    forecast.customer_id,
    forecast.meter_id,
    forecast.meter_name,
    forecast.meter_unit,
    forecast.aggregation,
    {{ period_start_date() }} as period_start,
    {{ period_end_date() }} as period_end,
    {{ as_of_ts() }} as as_of,
    cast(forecast.seconds_in_period as bigint) as seconds_in_period,
    cast(forecast.elapsed_seconds as bigint) as elapsed_seconds,
    case when forecast.elapsed_seconds >= forecast.seconds_in_period then true else false end as is_period_complete,
    forecast.forecast_method,
    cast(forecast.usage_to_date as {{ exact_type() }}) as usage_to_date,
    cast(forecast.forecast_quantity as {{ exact_type() }}) as forecast_quantity,
    cast(forecast.limit_quantity as {{ exact_type() }}) as limit_quantity,
    {{ percent_of('forecast.usage_to_date', 'forecast.limit_quantity') }} as usage_percent_of_limit,
    {{ percent_of('forecast.forecast_quantity', 'forecast.limit_quantity') }} as forecast_percent_of_limit,
    forecast.currency,
    {{ round_money('forecast.rated_amount_to_date', 'currencies.minor_units') }} as rated_amount_to_date,
    {{ round_money('forecast.projected_amount_exact', 'currencies.minor_units') }} as projected_amount
from forecast
inner join currencies
    on currencies.currency = forecast.currency
