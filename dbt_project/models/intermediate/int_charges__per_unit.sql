-- per_unit: quantity × unit_price.
select
    segment_id,
    charge_key,
    meter_id,
    charge_model,
    quantity,
    1 as tier_index,
    cast(null as {{ exact_type() }}) as tier_lower_bound,
    cast(null as {{ exact_type() }}) as tier_up_to,
    quantity as tier_quantity,
    unit_price,
    cast(0 as {{ exact_type() }}) as flat_fee,
    {{ multiply_exact('quantity', 'unit_price') }} as amount
from {{ ref('int_segment_charges_with_usage') }}
where charge_model = 'per_unit'
