{#
  Rule 10, first half: what a finalized period's invoices would charge today.
  One row per finalized invoice of the period: the charge and discount lines
  as invoiced (captured by the run that finalized the period, from the same
  rounded lines it froze) and as re-rated by this run, with every event
  loaded so far. The difference is what late usage changed; the receiving
  period bills it (fct_late_usage_adjustments). Credits and tax are not
  restated: the receiving invoice applies its own (SPEC "Late usage").

  Orchestration re-runs a finalized period whenever events arrived for it
  after its last run, so this row is current before a later period reads it.
#}
{{ config(full_refresh=false) }}

with

charges as (
    select customer_id, currency, amount from {{ ref('int_invoice_charges_rounded') }}
    union all
    select customer_id, currency, amount from {{ ref('int_invoice_discounts_applied') }}
),

settings as (
    select * from {{ ref('stg_settings') }}
),

finalization as (
    select {{ period_is_finalized('invoice_grace_days') }} as is_finalized
    from settings
),

rerated as (
    select
        customer_id,
        currency,
        cast(sum(amount) as {{ money_type() }}) as rerated_subtotal
    from charges
    group by customer_id, currency
),

{% if is_incremental() %}
as_invoiced as (
    select customer_id, invoiced_subtotal, finalized_at
    from {{ this }}
    where period_start = {{ period_start_date() }}
),
{% else %}
as_invoiced as (
    select customer_id, invoiced_subtotal, finalized_at
    from (select
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ money_type() }}) as invoiced_subtotal,
        cast(null as timestamp) as finalized_at
    ) as no_rows
    where 1 = 0
),
{% endif %}

restated as (
    select
        concat(rerated.customer_id, '-', '{{ var("period") }}') as invoice_id,
        rerated.customer_id,
        {{ period_start_date() }} as period_start,
        rerated.currency,
        coalesce(as_invoiced.invoiced_subtotal, rerated.rerated_subtotal) as invoiced_subtotal,
        rerated.rerated_subtotal,
        coalesce(as_invoiced.finalized_at, {{ as_of_ts() }}) as finalized_at,
        {{ as_of_ts() }} as rerated_at
    from rerated
    cross join finalization
    left join as_invoiced
        on as_invoiced.customer_id = rerated.customer_id
    where finalization.is_finalized
)

select
    invoice_id,
    customer_id,
    period_start,
    currency,
    invoiced_subtotal,
    rerated_subtotal,
    cast(rerated_subtotal - invoiced_subtotal as {{ money_type() }}) as restated_difference,
    finalized_at,
    rerated_at
from restated
