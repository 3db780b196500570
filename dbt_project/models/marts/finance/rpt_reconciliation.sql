{#
  The period's reconciliation: one row per check, expected vs actual, and
  ok when they are equal. A dbt test on `ok` makes any difference fail the
  run as a Dagster asset check.

    file_rows_accounted         every landed file's rows = loaded + duplicates
                                + quarantined (all files loaded so far);
    events_in_segments          the period's loaded events = events billed in a
                                subscription segment;
    rated_quantity_equals_usage each charged meter's aggregated clean usage =
                                the quantity fct_rated_usage rated;
    invoice_totals_equal_lines  Σ invoice totals = Σ invoice lines;
    ledger_equals_invoices      Σ finalized totals = Σ the ledger's charge,
                                discount, credit_applied and tax entries;
    receivable_reconciles       finalized totals − payments − credit notes =
                                the ledger's receivable for the period;
    credit_balances_reconcile   grants' closing balances = the ledger's credit
                                movements up to the period (finalized periods).
#}
{{ config(tags=['reporting']) }}

with

landed_files as (
    select * from {{ source('raw', 'landed_files') }}
),

file_rows as (
    select source_file from {{ source('raw', 'usage_events') }}
    union all
    select source_file from {{ source('raw', 'duplicate_events') }}
    union all
    select source_file from {{ source('raw', 'quarantined_events') }}
),

period_events as (
    select * from {{ source('raw', 'usage_events') }}
    where event_timestamp >= {{ period_start_ts() }}
        and event_timestamp < {{ period_end_ts() }}
),

usage_events as (
    select * from {{ ref('fct_usage_events') }}
    where period_start = {{ period_start_date() }}
),

aggregated as (
    select * from {{ ref('int_usage_aggregated_by_segment') }}
    where period_start = {{ period_start_date() }}
),

charged as (
    select distinct segment_id, meter_id from {{ ref('int_segment_charges_with_usage') }}
),

rated as (
    select distinct segment_id, meter_id, quantity
    from {{ ref('fct_rated_usage') }}
    where period_start = {{ period_start_date() }}
),

register as (
    select * from {{ ref('fct_invoice_register') }}
    where period_start = {{ period_start_date() }}
),

lines as (
    select * from {{ ref('fct_invoice_lines') }}
    where period_start = {{ period_start_date() }}
),

ledger as (
    select * from {{ ref('fct_revenue_ledger') }}
),

payments as (
    select * from {{ source('sync', 'payment_outcomes') }}
    where outcome = 'payment'
),

credit_notes as (
    select * from {{ source('finance', 'credit_notes') }}
),

balances as (
    select * from {{ ref('fct_credit_balances') }}
    where period_start = {{ period_start_date() }}
        and is_finalized
),

checks as (
    select
        'file_rows_accounted' as check_name,
        cast((select coalesce(sum(row_count), 0) from landed_files) as {{ exact_type() }}) as expected,
        cast((select count(*) from file_rows) as {{ exact_type() }}) as actual
    union all
    select
        'events_in_segments',
        cast((select count(*) from period_events) as {{ exact_type() }}),
        cast((select count(*) from usage_events where segment_id is not null) as {{ exact_type() }})
    union all
    select
        'rated_quantity_equals_usage',
        cast((
            select coalesce(sum(aggregated.quantity), 0)
            from aggregated
            inner join charged
                on charged.segment_id = aggregated.segment_id
                and charged.meter_id = aggregated.meter_id
        ) as {{ exact_type() }}),
        cast((select coalesce(sum(quantity), 0) from rated) as {{ exact_type() }})
    union all
    select
        'invoice_totals_equal_lines',
        cast((select coalesce(sum(total), 0) from register) as {{ exact_type() }}),
        cast((select coalesce(sum(amount), 0) from lines) as {{ exact_type() }})
    union all
    select
        'ledger_equals_invoices',
        cast((select coalesce(sum(total), 0) from register where status = 'finalized') as {{ exact_type() }}),
        cast((
            select coalesce(sum(ledger.receivable_change), 0)
            from ledger
            inner join register
                on register.invoice_id = ledger.invoice_id
            where ledger.entry_type in ('charge', 'discount', 'credit_applied', 'tax')
        ) as {{ exact_type() }})
    union all
    select
        'receivable_reconciles',
        cast((
            (select coalesce(sum(total), 0) from register where status = 'finalized')
            - (select coalesce(sum(payments.amount), 0)
               from payments
               inner join register on register.invoice_number = payments.invoice_number)
            - (select coalesce(sum(credit_notes.amount), 0)
               from credit_notes
               inner join register on register.invoice_id = credit_notes.invoice_id)
        ) as {{ exact_type() }}),
        cast((
            select coalesce(sum(ledger.receivable_change), 0)
            from ledger
            inner join register
                on register.invoice_id = ledger.invoice_id
        ) as {{ exact_type() }})
    union all
    select
        'credit_balances_reconcile',
        cast((select coalesce(sum(closing), 0) from balances) as {{ exact_type() }}),
        cast((
            select coalesce(sum(ledger.credit_balance_change), 0)
            from ledger
            inner join balances
                on balances.grant_id = ledger.grant_id
            where ledger.period_start <= {{ period_start_date() }}
        ) as {{ exact_type() }})
)

select
    concat(check_name, '@', '{{ var("period") }}') as reconciliation_id,
    check_name,
    {{ period_start_date() }} as period_start,
    expected,
    actual,
    cast(actual - expected as {{ exact_type() }}) as difference,
    case when actual = expected then true else false end as ok
from checks
