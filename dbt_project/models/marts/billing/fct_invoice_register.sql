{#
  The invoice register: one invoice per customer and period, its totals
  summed from its rounded lines. An invoice whose lines are frozen is
  finalized: it gets the next gap-free number (after the highest ever issued,
  in customer_id order within the period) exactly once, and every later run
  keeps the row unchanged. `status` here is draft or finalized; what happened
  to an invoice after it was issued (sent, paid, void ...) is fct_invoices.
  full_refresh is off: issued numbers are never re-assigned.
#}
{{ config(full_refresh=false) }}

{% set columns = [
    'invoice_id', 'invoice_number', 'invoice_sequence', 'customer_id', 'period_start',
    'period_end', 'currency', 'subtotal', 'discount_total', 'credit_total', 'tax_total',
    'total', 'line_count', 'status', 'issued_on', 'due_on', 'finalized_at', 'content_hash'
] %}

with

lines as (
    select * from {{ ref('fct_invoice_lines') }}
    where period_start = {{ period_start_date() }}
),

settings as (
    select * from {{ ref('stg_settings') }}
),

summed as (
    select
        invoice_id,
        customer_id,
        period_start,
        currency,
        cast(sum(case when line_type in ('base_fee', 'seat_fee', 'usage', 'minimum_true_up', 'adjustment') then amount else 0 end) as {{ money_type() }}) as subtotal,
        cast(-sum(case when line_type = 'discount' then amount else 0 end) as {{ money_type() }}) as discount_total,
        cast(-sum(case when line_type = 'credit' then amount else 0 end) as {{ money_type() }}) as credit_total,
        cast(sum(case when line_type = 'tax' then amount else 0 end) as {{ money_type() }}) as tax_total,
        cast(sum(amount) as {{ money_type() }}) as total,
        count(*) as line_count,
        min(case when is_finalized then 1 else 0 end) = 1 as is_finalized,
        md5({{ ordered_listagg(
            "concat(cast(line_number as " ~ dbt.type_string() ~ "), '|', line_type, '|', coalesce(meter_id, ''), '|', description, '|', coalesce(" ~ exact_text('quantity') ~ ", ''), '|', coalesce(" ~ exact_text('unit_price') ~ ", ''), '|', cast(amount as " ~ dbt.type_string() ~ "))",
            "'\\n'",
            ['line_number']) }}) as content_hash
    from lines
    group by invoice_id, customer_id, period_start, currency
),

{% if is_incremental() %}
issued as (
    select {{ columns | join(', ') }}
    from {{ this }}
    where period_start = {{ period_start_date() }}
        and status <> 'draft'
),

last_sequence as (
    select coalesce(max(invoice_sequence), 0) as last_sequence
    from {{ this }}
),
{% else %}
issued as (
    select {{ columns | join(', ') }}
    from (select
        cast(null as {{ dbt.type_string() }}) as invoice_id,
        cast(null as {{ dbt.type_string() }}) as invoice_number,
        cast(null as bigint) as invoice_sequence,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as date) as period_start,
        cast(null as date) as period_end,
        cast(null as {{ dbt.type_string() }}) as currency,
        cast(null as {{ money_type() }}) as subtotal,
        cast(null as {{ money_type() }}) as discount_total,
        cast(null as {{ money_type() }}) as credit_total,
        cast(null as {{ money_type() }}) as tax_total,
        cast(null as {{ money_type() }}) as total,
        cast(null as bigint) as line_count,
        cast(null as {{ dbt.type_string() }}) as status,
        cast(null as date) as issued_on,
        cast(null as date) as due_on,
        cast(null as timestamp) as finalized_at,
        cast(null as {{ dbt.type_string() }}) as content_hash
    ) as no_rows
    where 1 = 0
),

last_sequence as (
    select 0 as last_sequence
),
{% endif %}

unissued as (
    select
        summed.*,
        case
            when summed.is_finalized
                then last_sequence.last_sequence + row_number() over (
                    partition by summed.is_finalized order by summed.customer_id
                )
        end as invoice_sequence
    from summed
    cross join last_sequence
    left join issued
        on issued.invoice_id = summed.invoice_id
    where issued.invoice_id is null
),

dated as (
    select
        unissued.invoice_id,
        case
            when unissued.invoice_sequence is not null
                then concat(settings.invoice_prefix, '-', lpad(cast(unissued.invoice_sequence as {{ dbt.type_string() }}), 6, '0'))
        end as invoice_number,
        cast(unissued.invoice_sequence as bigint) as invoice_sequence,
        unissued.customer_id,
        unissued.period_start,
        {{ period_end_date() }} as period_end,
        unissued.currency,
        unissued.subtotal,
        unissued.discount_total,
        unissued.credit_total,
        unissued.tax_total,
        unissued.total,
        unissued.line_count,
        case when unissued.is_finalized then 'finalized' else 'draft' end as status,
        cast({{ dbt.dateadd('day', 'settings.invoice_grace_days', period_end_date()) }} as date) as issued_on,
        cast({{ dbt.dateadd('day', 'settings.invoice_grace_days + settings.payment_grace_days', period_end_date()) }} as date) as due_on,
        case when unissued.is_finalized then {{ as_of_ts() }} end as finalized_at,
        unissued.content_hash
    from unissued
    cross join settings
)

select {{ columns | join(', ') }} from issued
union all
select {{ columns | join(', ') }} from dated
