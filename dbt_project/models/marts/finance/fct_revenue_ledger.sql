{#
  The revenue ledger: every money movement, appended once and never changed.

    entry_type      from                                   receivable  credit balance
    charge          finalized fee, usage, true-up and       + amount
                    adjustment lines
    discount        finalized discount lines                − amount
    credit_applied  credits a finalized invoice applied     − amount    − amount
                    (fct_credit_balances, one per grant)
    tax             finalized tax lines                     + amount
    credit_granted  a grant, once a finalized period                    + amount
                    first counts it
    credit_expired  the unused rest of an expiring grant               − amount
    payment         Stripe's payment of an invoice          − amount
    payment_failed  a declined charge (amount attempted;    0
                    moves nothing)
    credit_note     finance's credit note on an invoice     − amount

  `amount` is signed as on the document; `receivable_change` is what the
  customer owes more (+) or less (−); `credit_balance_change` moves the
  customer's credit grants. Per customer, the receivable sums to issued
  totals − payments − credit notes and the credit balance to the grants'
  closing balances (rpt_reconciliation checks both).

  Only finalized, frozen or append-only records feed it, so an entry once
  written is never contradicted; each run appends the entries it has not
  seen (by entry_id). full_refresh is off: a ledger is a record.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    unique_key=none,
    full_refresh=false,
    tags=['reporting']
) }}

with

register as (
    select * from {{ ref('fct_invoice_register') }}
    where status = 'finalized'
),

lines as (
    select * from {{ ref('fct_invoice_lines') }}
),

balances as (
    select * from {{ ref('fct_credit_balances') }}
    where is_finalized
),

outcomes as (
    select * from {{ source('sync', 'payment_outcomes') }}
),

credit_notes as (
    select * from {{ source('finance', 'credit_notes') }}
),

invoice_entries as (
    select
        concat(lines.line_type, ':', lines.invoice_line_id) as entry_id,
        case lines.line_type
            when 'discount' then 'discount'
            when 'tax' then 'tax'
            else 'charge'
        end as entry_type,
        lines.customer_id,
        lines.currency,
        lines.invoice_id,
        register.invoice_number,
        cast(null as {{ dbt.type_string() }}) as grant_id,
        cast(null as {{ dbt.type_string() }}) as credit_note_id,
        lines.period_start,
        register.finalized_at as booked_at,
        lines.amount,
        lines.amount as receivable_change,
        cast(0 as {{ money_type() }}) as credit_balance_change,
        lines.description
    from lines
    inner join register
        on register.invoice_id = lines.invoice_id
    where lines.line_type <> 'credit'
),

credit_applied_entries as (
    select
        concat('credit_applied:', balances.credit_balance_id) as entry_id,
        'credit_applied' as entry_type,
        balances.customer_id,
        balances.currency,
        register.invoice_id,
        register.invoice_number,
        balances.grant_id,
        cast(null as {{ dbt.type_string() }}) as credit_note_id,
        balances.period_start,
        register.finalized_at as booked_at,
        -balances.applied as amount,
        -balances.applied as receivable_change,
        -balances.applied as credit_balance_change,
        concat('Credit ', balances.grant_id, ' applied') as description
    from balances
    inner join register
        on register.customer_id = balances.customer_id
        and register.period_start = balances.period_start
    where balances.applied > 0
),

first_counted as (
    select grant_id, min(period_start) as period_start
    from balances
    group by grant_id
),

credit_granted_entries as (
    select
        concat('credit_granted:', balances.grant_id) as entry_id,
        'credit_granted' as entry_type,
        balances.customer_id,
        balances.currency,
        cast(null as {{ dbt.type_string() }}) as invoice_id,
        cast(null as {{ dbt.type_string() }}) as invoice_number,
        balances.grant_id,
        cast(null as {{ dbt.type_string() }}) as credit_note_id,
        balances.period_start,
        balances.granted_at as booked_at,
        balances.granted_amount as amount,
        cast(0 as {{ money_type() }}) as receivable_change,
        balances.granted_amount as credit_balance_change,
        concat(balances.grant_kind, ' credit ', balances.grant_id, ' granted') as description
    from balances
    inner join first_counted
        on first_counted.grant_id = balances.grant_id
        and first_counted.period_start = balances.period_start
),

credit_expired_entries as (
    select
        concat('credit_expired:', credit_balance_id) as entry_id,
        'credit_expired' as entry_type,
        customer_id,
        currency,
        cast(null as {{ dbt.type_string() }}) as invoice_id,
        cast(null as {{ dbt.type_string() }}) as invoice_number,
        grant_id,
        cast(null as {{ dbt.type_string() }}) as credit_note_id,
        period_start,
        expires_at as booked_at,
        -expired as amount,
        cast(0 as {{ money_type() }}) as receivable_change,
        -expired as credit_balance_change,
        concat('Unused rest of credit ', grant_id, ' expired') as description
    from balances
    where expired > 0
),

payment_entries as (
    select
        concat(outcomes.outcome, ':', outcomes.provider, ':', outcomes.invoice_number) as entry_id,
        outcomes.outcome as entry_type,
        register.customer_id,
        outcomes.currency,
        register.invoice_id,
        outcomes.invoice_number,
        cast(null as {{ dbt.type_string() }}) as grant_id,
        cast(null as {{ dbt.type_string() }}) as credit_note_id,
        register.period_start,
        outcomes.occurred_at as booked_at,
        -outcomes.amount as amount,
        case when outcomes.outcome = 'payment' then -outcomes.amount else 0 end as receivable_change,
        cast(0 as {{ money_type() }}) as credit_balance_change,
        case
            when outcomes.outcome = 'payment' then concat('Paid through ', outcomes.provider, ' (', outcomes.provider_reference, ')')
            else concat('Charge declined by ', outcomes.provider, ' (', coalesce(outcomes.failure_code, 'no code'), ')')
        end as description
    from outcomes
    inner join register
        on register.invoice_number = outcomes.invoice_number
),

credit_note_entries as (
    select
        concat('credit_note:', credit_notes.credit_note_id) as entry_id,
        'credit_note' as entry_type,
        credit_notes.customer_id,
        credit_notes.currency,
        credit_notes.invoice_id,
        credit_notes.invoice_number,
        cast(null as {{ dbt.type_string() }}) as grant_id,
        credit_notes.credit_note_id,
        register.period_start,
        credit_notes.issued_at as booked_at,
        -credit_notes.amount as amount,
        -credit_notes.amount as receivable_change,
        cast(0 as {{ money_type() }}) as credit_balance_change,
        concat('Credit note ', credit_notes.credit_note_id, ': ', credit_notes.reason) as description
    from credit_notes
    inner join register
        on register.invoice_id = credit_notes.invoice_id
),

entries as (
    select * from invoice_entries
    union all
    select * from credit_applied_entries
    union all
    select * from credit_granted_entries
    union all
    select * from credit_expired_entries
    union all
    select * from payment_entries
    union all
    select * from credit_note_entries
)

select
    entries.entry_id,
    entries.entry_type,
    entries.customer_id,
    entries.currency,
    entries.invoice_id,
    entries.invoice_number,
    entries.grant_id,
    entries.credit_note_id,
    entries.period_start,
    entries.booked_at,
    cast(entries.amount as {{ money_type() }}) as amount,
    cast(entries.receivable_change as {{ money_type() }}) as receivable_change,
    cast(entries.credit_balance_change as {{ money_type() }}) as credit_balance_change,
    entries.description,
    {{ as_of_ts() }} as recorded_at
from entries
{% if is_incremental() %}
left join {{ this }} as recorded
    on recorded.entry_id = entries.entry_id
where recorded.entry_id is null
{% endif %}
