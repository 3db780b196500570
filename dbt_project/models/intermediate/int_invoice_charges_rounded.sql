{#
  The period's charge lines, each rounded once to the currency's minor unit
  (rules 4, 5, 9 and the "Lines" reading):
    base_fee / seat_fee  per segment, prorated by fee-bearing seconds
                         (trial seconds are waived);
    usage                per segment and charge, tiers summed exactly, then rounded;
    minimum_true_up      per segment, from the rounded lines it depends on.
  Discounts, credits and tax are computed from these rounded lines downstream.
#}
with

segments as (
    select * from {{ ref('int_subscription_segments_clipped') }}
),

rated as (
    select * from {{ ref('fct_rated_usage') }}
    where period_start = {{ period_start_date() }}
),

meters as (
    select * from {{ ref('stg_meters') }}
),

currencies as (
    select * from {{ ref('currencies') }}
),

segment_labels as (
    select
        segments.*,
        currencies.minor_units,
        currencies.symbol,
        concat(
            {{ day_label('segments.segment_start') }}, '–',
            {{ day_label(dbt.dateadd('second', -1, 'segments.segment_end')) }}, ' (',
            {{ decimal_text(prorate(1, 'segments.seconds_billable', 86400)) }}, '/',
            {{ decimal_text(prorate(1, 'segments.seconds_in_period', 86400)) }}, ' days',
            case
                when segments.seconds_in_trial > 0
                    then concat(', ', {{ decimal_text(prorate(1, 'segments.seconds_in_trial', 86400)) }}, ' trial days waived')
                else ''
            end,
            ')'
        ) as span_label
    from segments
    inner join currencies
        on currencies.currency = segments.currency
),

fee_lines as (
    select
        segment_id,
        customer_id,
        currency,
        minor_units,
        segment_start,
        1 as line_rank,
        'base_fee' as line_type,
        cast(null as {{ dbt.type_string() }}) as meter_id,
        concat(plan_name, ' plan base fee, ', span_label) as description,
        cast(null as {{ exact_type() }}) as quantity,
        base_fee as unit_price,
        {{ round_money(prorate('base_fee', 'seconds_billable', 'seconds_in_period'), 'minor_units') }} as amount
    from segment_labels
    where base_fee > 0

    union all

    select
        segment_id,
        customer_id,
        currency,
        minor_units,
        segment_start,
        2 as line_rank,
        'seat_fee' as line_type,
        cast(null as {{ dbt.type_string() }}) as meter_id,
        concat(
            plan_name, ' plan seats: ', cast(seats - included_seats as {{ dbt.type_string() }}),
            ' above ', cast(included_seats as {{ dbt.type_string() }}), ' included, ', span_label
        ) as description,
        cast(seats - included_seats as {{ exact_type() }}) as quantity,
        seat_fee as unit_price,
        {{ round_money(prorate(multiply_exact('seat_fee', 'seats - included_seats'), 'seconds_billable', 'seconds_in_period'), 'minor_units') }} as amount
    from segment_labels
    where seat_fee > 0 and seats > included_seats
),

-- Tiers in words that hold for fractional quantities too: "first 750",
-- "over 750 up to 1000", "over 1000"; prices with the currency symbol.
tier_labels as (
    select
        rated.*,
        case rated.charge_model
            when 'graduated' then concat(
                case
                    when rated.tier_lower_bound = 0 and rated.tier_up_to is null then 'all'
                    when rated.tier_lower_bound = 0 then concat('first ', {{ decimal_text('rated.tier_up_to') }})
                    when rated.tier_up_to is null then concat('over ', {{ decimal_text('rated.tier_lower_bound') }})
                    else concat(
                        'over ', {{ decimal_text('rated.tier_lower_bound') }},
                        ' up to ', {{ decimal_text('rated.tier_up_to') }})
                end, ': ',
                {{ decimal_text('rated.tier_quantity') }}, ' × ', {{ price_text('rated.unit_price', 'currencies.symbol') }},
                case when rated.flat_fee <> 0 then concat(' + ', {{ price_text('rated.flat_fee', 'currencies.symbol') }}, ' flat') else '' end)
            when 'volume' then concat(
                'all ', {{ decimal_text('rated.tier_quantity') }}, ' × ', {{ price_text('rated.unit_price', 'currencies.symbol') }},
                case when rated.flat_fee <> 0 then concat(' + ', {{ price_text('rated.flat_fee', 'currencies.symbol') }}, ' flat') else '' end)
            when 'package' then concat(
                {{ decimal_text('rated.tier_quantity') }}, ' packages × ', {{ price_text('rated.unit_price', 'currencies.symbol') }})
            when 'percentage' then concat(
                {{ decimal_text('rated.unit_price * 100') }}, '% of ', {{ decimal_text('rated.tier_quantity') }},
                ' + ', {{ price_text('rated.flat_fee', 'currencies.symbol') }}, ' per event')
            else concat(
                {{ decimal_text('rated.tier_quantity') }}, ' × ', {{ price_text('rated.unit_price', 'currencies.symbol') }})
        end as tier_label
    from rated
    inner join currencies
        on currencies.currency = rated.currency
),

usage_lines as (
    select
        tier_labels.segment_id,
        tier_labels.customer_id,
        tier_labels.currency,
        segment_labels.minor_units,
        segment_labels.segment_start,
        3 as line_rank,
        'usage' as line_type,
        tier_labels.meter_id,
        concat(
            max(meters.meter_name), ', ', max(segment_labels.plan_name), ' plan, ',
            max(segment_labels.span_label), ': ',
            {{ decimal_text('max(tier_labels.quantity)') }}, ' ', max(meters.meter_unit), ' — ',
            {{ ordered_listagg('tier_labels.tier_label', "'; '", ['tier_labels.tier_index']) }}
        ) as description,
        max(tier_labels.quantity) as quantity,
        case when max(tier_labels.charge_model) = 'per_unit' then max(tier_labels.unit_price) end as unit_price,
        {{ round_money('sum(tier_labels.amount)', 'segment_labels.minor_units') }} as amount
    from tier_labels
    inner join segment_labels
        on segment_labels.segment_id = tier_labels.segment_id
    inner join meters
        on meters.meter_id = tier_labels.meter_id
    group by
        tier_labels.segment_id,
        tier_labels.customer_id,
        tier_labels.currency,
        segment_labels.minor_units,
        segment_labels.segment_start,
        tier_labels.meter_id
),

charge_lines as (
    select * from fee_lines
    union all
    select * from usage_lines
),

-- Rule 5: the segment's rounded charges against its prorated, rounded minimum
-- (fee-bearing seconds, so a trial waives the minimum pro rata too).
true_up_lines as (
    select
        segment_labels.segment_id,
        segment_labels.customer_id,
        segment_labels.currency,
        segment_labels.minor_units,
        segment_labels.segment_start,
        4 as line_rank,
        'minimum_true_up' as line_type,
        cast(null as {{ dbt.type_string() }}) as meter_id,
        concat(
            segment_labels.plan_name, ' plan minimum commitment ',
            {{ decimal_text('segment_labels.minimum_commitment') }}, ', ', segment_labels.span_label
        ) as description,
        cast(null as {{ exact_type() }}) as quantity,
        segment_labels.minimum_commitment as unit_price,
        cast(
            {{ round_money(prorate('segment_labels.minimum_commitment', 'segment_labels.seconds_billable', 'segment_labels.seconds_in_period'), 'segment_labels.minor_units') }}
            - coalesce(sum(charge_lines.amount), 0)
        as {{ money_type() }}) as amount
    from segment_labels
    left join charge_lines
        on charge_lines.segment_id = segment_labels.segment_id
    where segment_labels.minimum_commitment > 0
    group by
        segment_labels.segment_id,
        segment_labels.customer_id,
        segment_labels.currency,
        segment_labels.minor_units,
        segment_labels.segment_start,
        segment_labels.plan_name,
        segment_labels.minimum_commitment,
        segment_labels.span_label,
        segment_labels.seconds_billable,
        segment_labels.seconds_in_period
),

rounded_lines as (
    select * from charge_lines
    union all
    select * from true_up_lines
    where amount > 0
)

select
    segment_id,
    customer_id,
    currency,
    minor_units,
    segment_start,
    line_rank,
    line_type,
    meter_id,
    description,
    quantity,
    unit_price,
    amount,
    {{ period_start_date() }} as period_start
from rounded_lines
