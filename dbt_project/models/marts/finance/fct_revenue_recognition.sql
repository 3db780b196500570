{#
  Revenue recognized per customer, month and revenue type, and what is still
  deferred (one row per type with anything to show).

    subscription_fees       base, seat and minimum true-up lines. Fees are
                            recognized ratably by day over their service
                            period; a segment never leaves its calendar
                            month, so a month's fee lines (prorated by the
                            second for a mid-month start) are that month's.
    usage                   usage lines: recognized when consumed, i.e. in
                            the month the events happened.
    late_usage_adjustments  adjustment lines for an earlier month's late
                            usage, recognized when billed (that month's
                            books are closed).
    discounts               discount lines (negative).
    promotional_credits     promotional credits applied (negative: free
                            credit reduces revenue).
    credit_notes            credit notes issued in the month, tax excluded
                            pro rata to the invoice's tax (negative).
    breakage                the unused rest of prepaid credit that expired.
    prepaid_credits         prepaid (and carried-forward) credit is cash or
                            value received in advance: deferred until used.
                            recognized_amount is 0 here because what the
                            credit paid is already in the month's fee and
                            usage rows; deferred_released shows that part,
                            deferred_balance what is left at month end.
  Rows of a month whose invoices are still drafts are provisional (is_final).
#}
{{ config(tags=['reporting']) }}

with

register as (
    select * from {{ ref('fct_invoice_register') }}
    where period_start = {{ period_start_date() }}
),

lines as (
    select * from {{ ref('fct_invoice_lines') }}
    where period_start = {{ period_start_date() }}
),

balances as (
    select * from {{ ref('fct_credit_balances') }}
    where period_start = {{ period_start_date() }}
),

credit_notes as (
    select * from {{ source('finance', 'credit_notes') }}
    where issued_at >= {{ period_start_ts() }}
        and issued_at < {{ period_end_ts() }}
),

credited_invoices as (
    select * from {{ ref('fct_invoice_register') }}
),

currencies as (
    select * from {{ ref('currencies') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

line_revenue as (
    select
        customer_id,
        case
            when line_type in ('base_fee', 'seat_fee', 'minimum_true_up') then 'subscription_fees'
            when line_type = 'usage' then 'usage'
            when line_type = 'discount' then 'discounts'
            when line_type = 'adjustment' and adjusted_invoice_id is not null then 'late_usage_adjustments'
        end as revenue_type,
        amount as recognized_amount,
        cast(0 as {{ money_type() }}) as deferred_released,
        cast(0 as {{ money_type() }}) as deferred_balance
    from lines
    where line_type in ('base_fee', 'seat_fee', 'minimum_true_up', 'usage', 'discount')
        or (line_type = 'adjustment' and adjusted_invoice_id is not null)
),

credit_revenue as (
    select
        customer_id,
        case
            when grant_kind = 'promotional' then 'promotional_credits'
            else 'prepaid_credits'
        end as revenue_type,
        case when grant_kind = 'promotional' then -applied else 0 end as recognized_amount,
        case when grant_kind = 'promotional' then 0 else applied end as deferred_released,
        case when grant_kind = 'promotional' then 0 else closing end as deferred_balance
    from balances
    union all
    select
        customer_id,
        'breakage' as revenue_type,
        expired as recognized_amount,
        cast(0 as {{ money_type() }}) as deferred_released,
        cast(0 as {{ money_type() }}) as deferred_balance
    from balances
    where grant_kind <> 'promotional'
        and expired > 0
),

credit_note_revenue as (
    select
        credit_notes.customer_id,
        'credit_notes' as revenue_type,
        -(credit_notes.amount - {{ round_money(
            prorate('credit_notes.amount',
                    'cast(credited_invoices.tax_total * 100 as bigint)',
                    'cast(credited_invoices.total * 100 as bigint)'),
            'currencies.minor_units') }}) as recognized_amount,
        cast(0 as {{ money_type() }}) as deferred_released,
        cast(0 as {{ money_type() }}) as deferred_balance
    from credit_notes
    inner join credited_invoices
        on credited_invoices.invoice_id = credit_notes.invoice_id
    inner join currencies
        on currencies.currency = credit_notes.currency
),

revenue as (
    select * from line_revenue
    union all
    select * from credit_revenue
    union all
    select * from credit_note_revenue
),

finalization as (
    select case when count(*) > 0 and min(case when status = 'finalized' then 1 else 0 end) = 1 then true else false end as is_final
    from register
)

select
    concat(revenue.customer_id, ':', '{{ var("period") }}', ':', revenue.revenue_type) as recognition_id,
    revenue.customer_id,
    {{ period_start_date() }} as period_start,
    customers.currency,
    revenue.revenue_type,
    cast(sum(revenue.recognized_amount) as {{ money_type() }}) as recognized_amount,
    cast(sum(revenue.deferred_released) as {{ money_type() }}) as deferred_released,
    cast(sum(revenue.deferred_balance) as {{ money_type() }}) as deferred_balance,
    finalization.is_final
from revenue
inner join customers
    on customers.customer_id = revenue.customer_id
cross join finalization
group by revenue.customer_id, customers.currency, revenue.revenue_type, finalization.is_final
