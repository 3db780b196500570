{#
  percentage: rate × the sum of the meter's field over matching events,
  plus fixed_fee per matching event. quantity is the summed value.
#}
select
    segment_id,
    charge_key,
    meter_id,
    charge_model,
    value_sum as quantity,
    1 as tier_index,
    cast(null as {{ exact_type() }}) as tier_lower_bound,
    cast(null as {{ exact_type() }}) as tier_up_to,
    value_sum as tier_quantity,
    rate as unit_price,
    fixed_fee as flat_fee,
    cast({{ multiply_exact('value_sum', 'rate') }} + {{ multiply_exact('event_count', 'fixed_fee') }} as {{ exact_type() }}) as amount
from {{ ref('int_segment_charges_with_usage') }}
where charge_model = 'percentage'
