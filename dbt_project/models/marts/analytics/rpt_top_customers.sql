{#
  Customers ranked by revenue (MRR summed over every billed period, see
  fct_customer_mrr), within their currency: rank 1 pays the most. Ties rank
  by customer_id. Also the latest period's MRR and plan.
#}
with

mrr as (
    select * from {{ ref('fct_customer_mrr') }}
),

latest as (
    select
        customer_id,
        period_start,
        plan_id,
        mrr,
        row_number() over (partition by customer_id order by period_start desc) as recency
    from mrr
),

totals as (
    select
        customer_id,
        customer_name,
        segment,
        currency,
        count(*) as periods_billed,
        sum(mrr) as total_revenue
    from mrr
    group by customer_id, customer_name, segment, currency
),

ranked as (
    select
        totals.*,
        sum(total_revenue) over (partition by currency) as currency_revenue,
        row_number() over (partition by currency order by total_revenue desc, customer_id) as revenue_rank
    from totals
)

select
    ranked.customer_id,
    ranked.customer_name,
    ranked.segment,
    ranked.currency,
    cast(ranked.revenue_rank as bigint) as revenue_rank,
    cast(ranked.periods_billed as bigint) as periods_billed,
    cast(ranked.total_revenue as {{ money_type() }}) as total_revenue,
    {{ percent_of('ranked.total_revenue', 'ranked.currency_revenue') }} as share_of_revenue_percent,
    latest.period_start as latest_period_start,
    latest.plan_id as latest_plan_id,
    latest.mrr as latest_mrr
from ranked
inner join latest
    on latest.customer_id = ranked.customer_id
    and latest.recency = 1
