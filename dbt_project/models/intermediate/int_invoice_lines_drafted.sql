{#
  Draft invoice lines of the period (rules 4–9 and the "Lines" reading), each
  already rounded to the currency's minor unit:
    base_fee, seat_fee, usage, minimum_true_up   int_invoice_charges_rounded;
    adjustment late usage of earlier finalized   fct_late_usage_adjustments
               invoices, and any excess credit carried forward;
    discount   one per applying discount         int_invoice_discounts_applied;
    credit     one per grant that pays           fct_credit_balances;
    tax        per invoice, tax_rate × the sum of the rounded lines above it
               (charges − discounts − credits), rounded once.
  One invoice per customer with a segment in the period or a pending
  adjustment. Lines are numbered charges first (by segment), then
  adjustments, discounts, credits, and tax last.
#}
with

charges as (
    select * from {{ ref('int_invoice_charges_rounded') }}
),

discounts as (
    select * from {{ ref('int_invoice_discounts_applied') }}
),

adjustments as (
    select * from {{ ref('fct_late_usage_adjustments') }}
    where period_start = {{ period_start_date() }}
),

credit_balances as (
    select * from {{ ref('fct_credit_balances') }}
    where period_start = {{ period_start_date() }}
),

segments as (
    select * from {{ ref('int_subscription_segments_clipped') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

currencies as (
    select * from {{ ref('currencies') }}
),

invoiced as (
    select customer_id from segments
    union
    select customer_id from adjustments
),

charge_lines as (
    select
        segment_id,
        customer_id,
        currency,
        segment_start,
        0 as line_group,
        line_rank,
        cast(0 as bigint) as line_order,
        line_type,
        meter_id,
        cast(null as {{ dbt.type_string() }}) as adjusted_invoice_id,
        description,
        quantity,
        unit_price,
        amount
    from charges
),

adjustment_lines as (
    select
        cast(null as {{ dbt.type_string() }}) as segment_id,
        adjustments.customer_id,
        adjustments.currency,
        cast(null as timestamp) as segment_start,
        1 as line_group,
        case when adjustments.adjustment_kind = 'late_usage' then 0 else 1 end as line_rank,
        cast(0 as bigint) as line_order,
        'adjustment' as line_type,
        cast(null as {{ dbt.type_string() }}) as meter_id,
        adjustments.adjusted_invoice_id,
        case
            when adjustments.adjustment_kind = 'late_usage' then concat(
                'Late usage for ', {{ month_label('adjustments.adjusted_period_start') }},
                ' (invoice ', adjustments.adjusted_invoice_id, '): charges re-rated to ',
                {{ money_text('adjustments.rerated_subtotal', 'currencies.minor_units') }}, ', invoiced ',
                {{ money_text('adjustments.invoiced_subtotal', 'currencies.minor_units') }},
                case
                    when adjustments.adjusted_before <> 0 then concat(
                        ', already adjusted ', {{ money_text('adjustments.adjusted_before', 'currencies.minor_units') }})
                    else ''
                end)
            else concat(
                'Negative adjustments beyond this invoice carried forward as credit ',
                adjustments.adjustment_id, ' (never expires)')
        end as description,
        cast(null as {{ exact_type() }}) as quantity,
        cast(null as {{ exact_type() }}) as unit_price,
        adjustments.amount
    from adjustments
    inner join currencies
        on currencies.currency = adjustments.currency
),

discount_lines as (
    select
        segment_id,
        customer_id,
        currency,
        segment_start,
        2 as line_group,
        line_rank,
        cast(step_number as bigint) as line_order,
        line_type,
        meter_id,
        cast(null as {{ dbt.type_string() }}) as adjusted_invoice_id,
        description,
        quantity,
        unit_price,
        amount
    from discounts
),

credit_lines as (
    select
        cast(null as {{ dbt.type_string() }}) as segment_id,
        credit_balances.customer_id,
        credit_balances.currency,
        cast(null as timestamp) as segment_start,
        3 as line_group,
        6 as line_rank,
        credit_balances.payment_rank as line_order,
        'credit' as line_type,
        cast(null as {{ dbt.type_string() }}) as meter_id,
        cast(null as {{ dbt.type_string() }}) as adjusted_invoice_id,
        concat(
            case credit_balances.grant_kind
                when 'promotional' then 'Promotional'
                when 'carried_forward' then 'Carried-forward'
                else 'Prepaid'
            end,
            ' credit (', credit_balances.grant_id, '), granted ',
            cast(cast(credit_balances.granted_at as date) as {{ dbt.type_string() }}),
            case
                when credit_balances.expires_at is null then ', never expires'
                else concat(', expires ', cast(cast(credit_balances.expires_at as date) as {{ dbt.type_string() }}))
            end,
            ': ', {{ money_text('credit_balances.applied', 'currencies.minor_units') }}, ' of ',
            {{ money_text('credit_balances.opening', 'currencies.minor_units') }}, ' balance applied'
        ) as description,
        cast(credit_balances.opening as {{ exact_type() }}) as quantity,
        cast(null as {{ exact_type() }}) as unit_price,
        cast(-credit_balances.applied as {{ money_type() }}) as amount
    from credit_balances
    inner join invoiced
        on invoiced.customer_id = credit_balances.customer_id
    inner join currencies
        on currencies.currency = credit_balances.currency
    where credit_balances.applied > 0
),

non_tax_lines as (
    select * from charge_lines
    union all
    select * from adjustment_lines
    union all
    select * from discount_lines
    union all
    select * from credit_lines
),

-- Rule 8: tax is rounded once per invoice, on the sum of its rounded lines.
tax_lines as (
    select
        cast(null as {{ dbt.type_string() }}) as segment_id,
        customers.customer_id,
        customers.currency,
        cast(null as timestamp) as segment_start,
        4 as line_group,
        9 as line_rank,
        cast(0 as bigint) as line_order,
        'tax' as line_type,
        cast(null as {{ dbt.type_string() }}) as meter_id,
        cast(null as {{ dbt.type_string() }}) as adjusted_invoice_id,
        concat('Tax ', {{ decimal_text('customers.tax_rate * 100') }}, '%') as description,
        cast(coalesce(sum(non_tax_lines.amount), 0) as {{ exact_type() }}) as quantity,
        customers.tax_rate as unit_price,
        {{ round_money(multiply_exact('coalesce(sum(non_tax_lines.amount), 0)', 'customers.tax_rate'), 'currencies.minor_units') }} as amount
    from customers
    inner join currencies
        on currencies.currency = customers.currency
    inner join invoiced
        on invoiced.customer_id = customers.customer_id
    left join non_tax_lines
        on non_tax_lines.customer_id = customers.customer_id
    group by
        customers.customer_id,
        customers.currency,
        currencies.minor_units,
        customers.tax_rate
),

all_lines as (
    select * from non_tax_lines
    union all
    select * from tax_lines
)

select
    concat(customer_id, '-', '{{ var("period") }}') as invoice_id,
    row_number() over (
        partition by customer_id
        order by line_group, segment_start, line_rank, meter_id, adjusted_invoice_id, line_order
    ) as line_number,
    customer_id,
    {{ period_start_date() }} as period_start,
    line_type,
    meter_id,
    segment_id,
    adjusted_invoice_id,
    description,
    quantity,
    unit_price,
    amount,
    currency
from all_lines
