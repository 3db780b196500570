{#
  Rule 6 and the "Discounts" reading: one discount line per discount that
  applies to the period, computed from the already-rounded charge lines.

  A discount applies when first_period <= period_start and, if cycles is set,
  the period is within cycles calendar months of first_period. It names
  lines: `all` = base fee, seat fee, usage and minimum true-up lines;
  `base_fee`; or a meter id (that meter's usage lines).

  The invoice's charges are kept as buckets (base_fee, seat_fee, one per
  meter's usage, minimum_true_up), each with its rounded amount. The applying
  discounts are walked in order (percent discounts by discount_id, then amount
  discounts by discount_id), each taking its share of what is left of the
  buckets it names:
    percent  share = value × remaining, per named bucket (so percents compound);
    amount   min(value, what is left of its named buckets), taken from those
             buckets in line order (base, seat, usage by meter, true-up),
             so no bucket goes below zero.
  Each line is its shares' sum rounded once; a last cap keeps the rounded
  discounts from exceeding the rounded lines they name (a half-cent rounded
  up twice), so the discounted charges are never below zero.
#}
{# Looked up once: the walk's steps and their union below both need it. #}
{% set walk_steps = discount_steps() %}
with

charges as (
    select * from {{ ref('int_invoice_charges_rounded') }}
),

segments as (
    select * from {{ ref('int_subscription_segments_clipped') }}
),

discounts as (
    select * from {{ ref('stg_discounts') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

currencies as (
    select * from {{ ref('currencies') }}
),

meters as (
    select * from {{ ref('stg_meters') }}
),

invoiced as (
    select distinct customer_id
    from segments
),

applying as (
    select
        discounts.discount_id,
        discounts.customer_id,
        discounts.discount_kind,
        discounts.discount_value,
        discounts.applies_to,
        discounts.cycles,
        {{ dbt.datediff('discounts.first_period', period_start_date(), 'month') }} + 1 as cycle_number
    from discounts
    inner join invoiced
        on invoiced.customer_id = discounts.customer_id
    where {{ discount_applies_in_period('discounts.first_period', 'discounts.cycles') }}
),

steps as (
    select
        applying.*,
        row_number() over (
            partition by applying.customer_id
            order by case when applying.discount_kind = 'percent' then 0 else 1 end, applying.discount_id
        ) as step_number
    from applying
),

buckets as (
    select
        customer_id,
        line_type,
        meter_id,
        case line_type
            when 'base_fee' then 1
            when 'seat_fee' then 2
            when 'usage' then 3
            else 4
        end as bucket_rank,
        cast(sum(amount) as {{ exact_type() }}) as amount
    from charges
    where line_type in ('base_fee', 'seat_fee', 'usage', 'minimum_true_up')
    group by customer_id, line_type, meter_id
),

bucket_order as (
    select
        buckets.*,
        row_number() over (
            partition by buckets.customer_id
            order by buckets.bucket_rank, buckets.meter_id
        ) as bucket_number
    from buckets
    where buckets.customer_id in (select customer_id from steps)
),

-- What is left of each bucket after each step, and the step's share of it:
-- walk_0 is the buckets as charged, walk_N what step N leaves. The walk is
-- unrolled, one CTE a step, rather than a recursive CTE: a step needs a window
-- over the previous step's rows (what the buckets before it leave), and Spark
-- allows no window over a recursive reference.
walk_0 as (
    select
        customer_id,
        line_type,
        meter_id,
        bucket_number,
        0 as step_number,
        amount as remaining_before,
        amount as remaining,
        cast(0 as {{ exact_type() }}) as share
    from bucket_order
),

{% for step in range(1, walk_steps + 1) %}
walk_{{ step }} as (
    select
        customer_id,
        line_type,
        meter_id,
        bucket_number,
        cast(step_number as integer) as step_number,
        remaining as remaining_before,
        cast(remaining - share as {{ exact_type() }}) as remaining,
        share
    from (
        select
            named.customer_id,
            named.line_type,
            named.meter_id,
            named.bucket_number,
            named.step_number,
            named.remaining,
            case
                when not named.is_named then cast(0 as {{ exact_type() }})
                when named.discount_kind = 'percent'
                    then {{ multiply_exact('named.remaining', 'named.discount_value') }}
                else cast(least(
                    named.remaining,
                    greatest(cast(0 as {{ exact_type() }}), named.discount_value - named.named_before)
                ) as {{ exact_type() }})
            end as share
        from (
            select
                walk.customer_id,
                walk.line_type,
                walk.meter_id,
                walk.bucket_number,
                steps.step_number,
                walk.remaining,
                steps.discount_kind,
                steps.discount_value,
                {{ discount_names_line('steps.applies_to', 'walk.line_type', 'walk.meter_id') }} as is_named,
                coalesce(sum(
                    case
                        when {{ discount_names_line('steps.applies_to', 'walk.line_type', 'walk.meter_id') }}
                            then walk.remaining
                    end
                ) over (
                    partition by walk.customer_id
                    order by walk.bucket_number
                    rows between unbounded preceding and 1 preceding
                ), 0) as named_before
            from walk_{{ step - 1 }} as walk
            inner join steps
                on steps.customer_id = walk.customer_id
                and steps.step_number = {{ step }}
        ) as named
    ) as shared
),

{% endfor %}
walked as (
    select * from walk_0
    where step_number > 0
    {% for step in range(1, walk_steps + 1) %}
    union all
    select * from walk_{{ step }}
    {% endfor %}
),

step_totals as (
    select
        customer_id,
        step_number,
        sum(share) as exact_amount
    from walked
    group by customer_id, step_number
),

step_bases as (
    select
        walked.customer_id,
        walked.step_number,
        sum(walked.remaining_before) as base
    from walked
    inner join steps
        on steps.customer_id = walked.customer_id
        and steps.step_number = walked.step_number
    where {{ discount_names_line('steps.applies_to', 'walked.line_type', 'walked.meter_id') }}
    group by walked.customer_id, walked.step_number
),

-- The rounded lines all applying discounts name together: the cap on their sum.
named_totals as (
    select
        buckets.customer_id,
        sum(buckets.amount) as named_total
    from buckets
    where exists (
        select 1
        from steps
        where steps.customer_id = buckets.customer_id
            and {{ discount_names_line('steps.applies_to', 'buckets.line_type', 'buckets.meter_id') }}
    )
    group by buckets.customer_id
),

rounded as (
    select
        steps.*,
        currencies.minor_units,
        currencies.symbol,
        customers.currency,
        coalesce(step_bases.base, 0) as base,
        coalesce(named_totals.named_total, 0) as named_total,
        {{ round_money('coalesce(step_totals.exact_amount, 0)', 'currencies.minor_units') }} as rounded_amount
    from steps
    inner join customers
        on customers.customer_id = steps.customer_id
    inner join currencies
        on currencies.currency = customers.currency
    left join step_totals
        on step_totals.customer_id = steps.customer_id
        and step_totals.step_number = steps.step_number
    left join step_bases
        on step_bases.customer_id = steps.customer_id
        and step_bases.step_number = steps.step_number
    left join named_totals
        on named_totals.customer_id = steps.customer_id
),

capped as (
    select
        rounded.*,
        sum(rounded.rounded_amount) over (
            partition by rounded.customer_id
            order by rounded.step_number
            rows between unbounded preceding and current row
        ) as running_total
    from rounded
)

select
    cast(null as {{ dbt.type_string() }}) as segment_id,
    capped.customer_id,
    capped.currency,
    capped.minor_units,
    cast(null as timestamp) as segment_start,
    5 as line_rank,
    'discount' as line_type,
    cast(null as {{ dbt.type_string() }}) as meter_id,
    concat(
        case
            when capped.discount_kind = 'percent'
                then concat({{ decimal_text(multiply_exact('capped.discount_value', 100)) }}, '% off ')
            else concat(
                capped.symbol,
                {{ money_text(round_money('capped.discount_value', 'capped.minor_units'), 'capped.minor_units') }},
                ' off '
            )
        end,
        case
            when capped.applies_to = 'all' then 'all charges'
            when capped.applies_to = 'base_fee' then 'the base fee'
            else coalesce(meters.meter_name, capped.applies_to)
        end,
        ' (', capped.discount_id, '), cycle ', cast(capped.cycle_number as {{ dbt.type_string() }}),
        case
            when capped.cycles is not null then concat(' of ', cast(capped.cycles as {{ dbt.type_string() }}))
            else ''
        end
    ) as description,
    cast(capped.base as {{ exact_type() }}) as quantity,
    capped.discount_value as unit_price,
    cast(
        -(least(capped.running_total, capped.named_total)
            - least(capped.running_total - capped.rounded_amount, capped.named_total))
    as {{ money_type() }}) as amount,
    {{ period_start_date() }} as period_start,
    capped.discount_id,
    capped.step_number
from capped
left join meters
    on meters.meter_id = capped.applies_to
