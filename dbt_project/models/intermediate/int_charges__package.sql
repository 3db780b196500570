{#
  package: units beyond free_units are sold in whole packages:
  ceil((quantity − free_units) / package_size) × package_price.
  tier_quantity is the number of packages; unit_price the package price.
#}
with

charges as (
    select
        *,
        case when quantity > free_units then quantity - free_units else cast(0 as {{ exact_type() }}) end as billable_units
    from {{ ref('int_segment_charges_with_usage') }}
    where charge_model = 'package'
)

select
    segment_id,
    charge_key,
    meter_id,
    charge_model,
    quantity,
    1 as tier_index,
    cast(null as {{ exact_type() }}) as tier_lower_bound,
    cast(null as {{ exact_type() }}) as tier_up_to,
    cast({{ ceil_divide('billable_units', 'package_size') }} as {{ exact_type() }}) as tier_quantity,
    package_price as unit_price,
    cast(0 as {{ exact_type() }}) as flat_fee,
    {{ multiply_exact(ceil_divide('billable_units', 'package_size'), 'package_price') }} as amount
from charges
