{#
  Usage revenue per period, meter and currency: the rounded usage lines of the
  period's invoices (before discounts, which apply to whole invoices or lines
  and are not split by meter), the quantity they billed, and the meter's share
  of the period's usage revenue.
#}
with

usage_lines as (
    select * from {{ ref('fct_invoice_lines') }}
    where line_type = 'usage'
),

meters as (
    select * from {{ ref('stg_meters') }}
),

by_meter as (
    select
        period_start,
        meter_id,
        currency,
        count(distinct customer_id) as customers,
        count(distinct case when amount <> 0 then customer_id end) as paying_customers,
        sum(quantity) as quantity,
        sum(amount) as revenue
    from usage_lines
    group by period_start, meter_id, currency
),

with_totals as (
    select
        by_meter.*,
        sum(revenue) over (partition by period_start, currency) as period_usage_revenue
    from by_meter
)

select
    concat(cast(with_totals.period_start as {{ dbt.type_string() }}), ':', with_totals.meter_id, ':', with_totals.currency) as revenue_by_meter_id,
    with_totals.period_start,
    with_totals.meter_id,
    meters.meter_name,
    meters.meter_unit,
    with_totals.currency,
    with_totals.customers,
    with_totals.paying_customers,
    cast(with_totals.quantity as {{ exact_type() }}) as quantity,
    cast(with_totals.revenue as {{ money_type() }}) as revenue,
    {{ percent_of('with_totals.revenue', 'with_totals.period_usage_revenue') }} as share_of_usage_revenue_percent
from with_totals
left join meters
    on meters.meter_id = with_totals.meter_id
