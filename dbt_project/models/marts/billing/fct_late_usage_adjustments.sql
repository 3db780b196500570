{#
  Rule 10, second half: the adjustments this period's invoices bill.

  late_usage             one per earlier finalized invoice whose re-rated
                         charges and discounts differ from what was invoiced
                         and already adjusted on finalized invoices (so each
                         difference is billed once, on the first invoice
                         finalized after it was found);
  credit_carried_forward one per customer whose negative adjustments exceed
                         the rest of this invoice: the invoice stays at zero
                         and the excess becomes a never-expiring credit grant
                         (grant_id = the adjustment_id, CF-<invoice_id>), usable from the next
                         period (fct_credit_balances).
  Rows of a finalized period are frozen like its invoice lines.
#}
{{ config(full_refresh=false) }}

{% set columns = [
    'adjustment_id', 'invoice_id', 'customer_id', 'period_start', 'adjustment_kind',
    'adjusted_invoice_id', 'adjusted_period_start', 'invoiced_subtotal', 'rerated_subtotal',
    'adjusted_before', 'amount', 'currency', 'is_finalized'
] %}

with

restatements as (
    select * from {{ ref('fct_late_usage_restatements') }}
    where period_start < {{ period_start_date() }}
),

charges as (
    select customer_id, amount from {{ ref('int_invoice_charges_rounded') }}
    union all
    select customer_id, amount from {{ ref('int_invoice_discounts_applied') }}
),

settings as (
    select * from {{ ref('stg_settings') }}
),

finalization as (
    select {{ period_is_finalized('invoice_grace_days') }} as is_finalized
    from settings
),

{% if is_incremental() %}
adjusted_elsewhere as (
    select adjusted_invoice_id, sum(amount) as adjusted_before
    from {{ this }}
    where period_start <> {{ period_start_date() }}
        and is_finalized
        and adjustment_kind = 'late_usage'
    group by adjusted_invoice_id
),

frozen as (
    select {{ columns | join(', ') }}
    from {{ this }}
    where period_start = {{ period_start_date() }}
        and is_finalized
),
{% else %}
adjusted_elsewhere as (
    select adjusted_invoice_id, adjusted_before
    from (select
        cast(null as {{ dbt.type_string() }}) as adjusted_invoice_id,
        cast(null as {{ money_type() }}) as adjusted_before
    ) as no_rows
    where 1 = 0
),

frozen as (
    select {{ columns | join(', ') }}
    from (select
        cast(null as {{ dbt.type_string() }}) as adjustment_id,
        cast(null as {{ dbt.type_string() }}) as invoice_id,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as date) as period_start,
        cast(null as {{ dbt.type_string() }}) as adjustment_kind,
        cast(null as {{ dbt.type_string() }}) as adjusted_invoice_id,
        cast(null as date) as adjusted_period_start,
        cast(null as {{ money_type() }}) as invoiced_subtotal,
        cast(null as {{ money_type() }}) as rerated_subtotal,
        cast(null as {{ money_type() }}) as adjusted_before,
        cast(null as {{ money_type() }}) as amount,
        cast(null as {{ dbt.type_string() }}) as currency,
        cast(null as boolean) as is_finalized
    ) as no_rows
    where 1 = 0
),
{% endif %}

period_state as (
    select case when count(*) > 0 then true else false end as is_frozen
    from frozen
),

late_usage as (
    select
        concat('ADJ-', restatements.invoice_id, '@', '{{ var("period") }}') as adjustment_id,
        concat(restatements.customer_id, '-', '{{ var("period") }}') as invoice_id,
        restatements.customer_id,
        {{ period_start_date() }} as period_start,
        'late_usage' as adjustment_kind,
        restatements.invoice_id as adjusted_invoice_id,
        restatements.period_start as adjusted_period_start,
        restatements.invoiced_subtotal,
        restatements.rerated_subtotal,
        cast(coalesce(adjusted_elsewhere.adjusted_before, 0) as {{ money_type() }}) as adjusted_before,
        cast(
            restatements.restated_difference - coalesce(adjusted_elsewhere.adjusted_before, 0)
        as {{ money_type() }}) as amount,
        restatements.currency
    from restatements
    cross join period_state
    left join adjusted_elsewhere
        on adjusted_elsewhere.adjusted_invoice_id = restatements.invoice_id
    where not period_state.is_frozen
        and restatements.restated_difference - coalesce(adjusted_elsewhere.adjusted_before, 0) <> 0
),

-- What the receiving invoice charges besides its adjustments (zero without a segment).
invoice_rest as (
    select customer_id, sum(amount) as amount
    from charges
    group by customer_id
),

carried_forward as (
    select
        concat('CF-', late_usage.invoice_id) as adjustment_id,
        late_usage.invoice_id,
        late_usage.customer_id,
        late_usage.period_start,
        'credit_carried_forward' as adjustment_kind,
        cast(null as {{ dbt.type_string() }}) as adjusted_invoice_id,
        cast(null as date) as adjusted_period_start,
        cast(null as {{ money_type() }}) as invoiced_subtotal,
        cast(null as {{ money_type() }}) as rerated_subtotal,
        cast(null as {{ money_type() }}) as adjusted_before,
        cast(-(sum(late_usage.amount) + coalesce(max(invoice_rest.amount), 0)) as {{ money_type() }}) as amount,
        late_usage.currency
    from late_usage
    left join invoice_rest
        on invoice_rest.customer_id = late_usage.customer_id
    group by late_usage.invoice_id, late_usage.customer_id, late_usage.period_start, late_usage.currency
    having sum(late_usage.amount) + coalesce(max(invoice_rest.amount), 0) < 0
),

recomputed as (
    select late_usage.*, finalization.is_finalized
    from late_usage
    cross join finalization
    union all
    select carried_forward.*, finalization.is_finalized
    from carried_forward
    cross join finalization
)

select {{ columns | join(', ') }} from frozen
union all
select {{ columns | join(', ') }} from recomputed
