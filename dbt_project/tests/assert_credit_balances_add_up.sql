{{ config(meta={'dagster': {'ref': {'name': 'fct_credit_balances'}}}) }}

-- Credits never exceed the balance: every balance row adds up and is never
-- negative, a grant's applied credits never exceed its amount, and each
-- invoice's credit lines match what its customer's grants applied.
with balance_rows as (
    select credit_balance_id as failing, 'row does not add up or is negative' as reason
    from {{ ref('fct_credit_balances') }}
    where opening < 0 or applied < 0 or expired < 0 or closing < 0
        or applied > opening
        or opening - applied - expired <> closing
),

overdrawn as (
    select grant_id as failing, 'applied more than granted' as reason
    from {{ ref('fct_credit_balances') }}
    group by grant_id
    having sum(applied) > max(granted_amount)
),

invoice_credits as (
    select customer_id, period_start, -sum(amount) as credited
    from {{ ref('fct_invoice_lines') }}
    where line_type = 'credit'
    group by customer_id, period_start
),

balance_credits as (
    select customer_id, period_start, sum(applied) as applied
    from {{ ref('fct_credit_balances') }}
    group by customer_id, period_start
),

mismatched as (
    select invoice_credits.customer_id as failing, 'credit lines differ from balances applied' as reason
    from invoice_credits
    left join balance_credits
        on balance_credits.customer_id = invoice_credits.customer_id
        and balance_credits.period_start = invoice_credits.period_start
    where balance_credits.applied is null or balance_credits.applied <> invoice_credits.credited
    union all
    select balance_credits.customer_id, 'balances applied without a credit line'
    from balance_credits
    left join invoice_credits
        on invoice_credits.customer_id = balance_credits.customer_id
        and invoice_credits.period_start = balance_credits.period_start
    where balance_credits.applied > 0 and invoice_credits.customer_id is null
)

select * from balance_rows
union all
select * from overdrawn
union all
select * from mismatched
