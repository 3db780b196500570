{#
  Invoice lines of the period. Draft lines are recomputed on every run; once
  the run's as-of reaches period_end + invoice_grace_days they are frozen
  (is_finalized) and every later run keeps them exactly as they were.
  full_refresh is off: finalized lines are a record, not a cache.
#}
{{ config(full_refresh=false) }}

{% set columns = [
    'invoice_line_id', 'invoice_id', 'line_number', 'customer_id', 'period_start',
    'line_type', 'meter_id', 'segment_id', 'adjusted_invoice_id', 'description', 'quantity', 'unit_price',
    'amount', 'currency', 'is_finalized'
] %}

with

drafted as (
    select * from {{ ref('int_invoice_lines_drafted') }}
),

settings as (
    select * from {{ ref('stg_settings') }}
),

finalization as (
    select {{ period_is_finalized('invoice_grace_days') }} as is_finalized
    from settings
),

{% if is_incremental() %}
frozen as (
    select {{ columns | join(', ') }}
    from {{ this }}
    where period_start = {{ period_start_date() }}
        and is_finalized
),
{% else %}
frozen as (
    select {{ columns | join(', ') }}
    from (select
        cast(null as {{ dbt.type_string() }}) as invoice_line_id,
        cast(null as {{ dbt.type_string() }}) as invoice_id,
        cast(null as bigint) as line_number,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as date) as period_start,
        cast(null as {{ dbt.type_string() }}) as line_type,
        cast(null as {{ dbt.type_string() }}) as meter_id,
        cast(null as {{ dbt.type_string() }}) as segment_id,
        cast(null as {{ dbt.type_string() }}) as adjusted_invoice_id,
        cast(null as {{ dbt.type_string() }}) as description,
        cast(null as {{ exact_type() }}) as quantity,
        cast(null as {{ exact_type() }}) as unit_price,
        cast(null as {{ money_type() }}) as amount,
        cast(null as {{ dbt.type_string() }}) as currency,
        cast(null as boolean) as is_finalized
    ) as no_rows
    where 1 = 0
),
{% endif %}

recomputed as (
    select
        concat(drafted.invoice_id, ':', cast(drafted.line_number as {{ dbt.type_string() }})) as invoice_line_id,
        drafted.invoice_id,
        drafted.line_number,
        drafted.customer_id,
        drafted.period_start,
        drafted.line_type,
        drafted.meter_id,
        drafted.segment_id,
        drafted.adjusted_invoice_id,
        drafted.description,
        drafted.quantity,
        drafted.unit_price,
        drafted.amount,
        drafted.currency,
        finalization.is_finalized
    from drafted
    cross join finalization
    left join (select distinct invoice_id from frozen) as frozen_invoices
        on frozen_invoices.invoice_id = drafted.invoice_id
    where frozen_invoices.invoice_id is null
)

select {{ columns | join(', ') }} from frozen
union all
select {{ columns | join(', ') }} from recomputed
