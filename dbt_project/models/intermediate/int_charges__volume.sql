{#
  volume: the one tier the whole quantity falls in prices every unit, plus
  that tier's flat_fee. Tier i covers (up_to[i-1], up_to[i]]; zero falls in
  the first tier.
#}
with

charges as (
    select * from {{ ref('int_segment_charges_with_usage') }}
    where charge_model = 'volume'
),

tiers as (
    select * from {{ ref('stg_charge_tiers') }}
)

select
    charges.segment_id,
    charges.charge_key,
    charges.meter_id,
    charges.charge_model,
    charges.quantity,
    tiers.tier_index,
    tiers.lower_bound as tier_lower_bound,
    tiers.up_to as tier_up_to,
    charges.quantity as tier_quantity,
    tiers.unit_price,
    tiers.flat_fee,
    cast({{ multiply_exact('charges.quantity', 'tiers.unit_price') }} + tiers.flat_fee as {{ exact_type() }}) as amount
from charges
inner join tiers
    on tiers.charge_key = charges.charge_key
    and (tiers.tier_index = 1 or charges.quantity > tiers.lower_bound)
    and (tiers.up_to is null or charges.quantity <= tiers.up_to)
