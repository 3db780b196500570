{#
  Monthly recurring revenue per customer and billing period.

  In usage-based billing a month's revenue is what its invoice charges: MRR is
  the sum of the invoice's base fee, seat fee, usage and minimum true-up lines
  after its discount lines, in the invoice's currency. Left out: tax (not
  revenue), credit lines (a way of paying, not a price cut) and late-usage
  adjustments (revenue of an earlier period). Draft invoices count, so the
  open period shows its revenue to date. ARR = MRR × 12.

  A customer's plan in a period is the plan of their last subscription active
  in it (latest started_at, then subscription_id), so a mid-month upgrade
  counts under the new plan.
#}
with

invoices as (
    select * from {{ ref('fct_invoices') }}
),

lines as (
    select * from {{ ref('fct_invoice_lines') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

subscriptions as (
    select * from {{ ref('stg_subscriptions') }}
),

revenue as (
    select
        invoice_id,
        cast(sum(
            case when line_type in ('base_fee', 'seat_fee', 'usage', 'minimum_true_up', 'discount') then amount else 0 end
        ) as {{ money_type() }}) as mrr,
        cast(sum(case when line_type = 'usage' then amount else 0 end) as {{ money_type() }}) as usage_revenue,
        cast(sum(case when line_type in ('base_fee', 'seat_fee', 'minimum_true_up') then amount else 0 end) as {{ money_type() }}) as fixed_revenue,
        cast(sum(case when line_type = 'discount' then amount else 0 end) as {{ money_type() }}) as discounts
    from lines
    group by invoice_id
),

plans_in_period as (
    select
        invoices.invoice_id,
        subscriptions.plan_id,
        row_number() over (
            partition by invoices.invoice_id
            order by subscriptions.started_at desc, subscriptions.subscription_id desc
        ) as plan_rank
    from invoices
    inner join subscriptions
        on subscriptions.customer_id = invoices.customer_id
        and subscriptions.started_at < cast(invoices.period_end as timestamp)
        and (subscriptions.ended_at is null or subscriptions.ended_at > cast(invoices.period_start as timestamp))
)

select
    concat(invoices.customer_id, '@', cast(invoices.period_start as {{ dbt.type_string() }})) as customer_mrr_id,
    invoices.customer_id,
    customers.name as customer_name,
    customers.segment,
    coalesce(plans_in_period.plan_id, '(none)') as plan_id,
    invoices.period_start,
    invoices.currency,
    invoices.invoice_id,
    invoices.status as invoice_status,
    coalesce(revenue.fixed_revenue, 0) as fixed_revenue,
    coalesce(revenue.usage_revenue, 0) as usage_revenue,
    coalesce(revenue.discounts, 0) as discounts,
    coalesce(revenue.mrr, 0) as mrr,
    cast(coalesce(revenue.mrr, 0) * 12 as {{ money_type() }}) as arr
from invoices
inner join customers
    on customers.customer_id = invoices.customer_id
left join revenue
    on revenue.invoice_id = invoices.invoice_id
left join plans_in_period
    on plans_in_period.invoice_id = invoices.invoice_id
    and plans_in_period.plan_rank = 1
