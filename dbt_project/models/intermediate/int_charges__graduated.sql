{#
  graduated: each unit priced by the tier it falls in. Tier i covers
  (up_to[i-1], up_to[i]]; a reached tier adds its flat_fee, and the first
  tier is always reached. Unreached tiers make no row.
#}
with

charges as (
    select * from {{ ref('int_segment_charges_with_usage') }}
    where charge_model = 'graduated'
),

tiers as (
    select * from {{ ref('stg_charge_tiers') }}
),

priced as (
    select
        charges.segment_id,
        charges.charge_key,
        charges.meter_id,
        charges.charge_model,
        charges.quantity,
        tiers.tier_index,
        tiers.lower_bound as tier_lower_bound,
        tiers.up_to as tier_up_to,
        case
            when charges.quantity <= tiers.lower_bound then cast(0 as {{ exact_type() }})
            when tiers.up_to is null or charges.quantity < tiers.up_to then charges.quantity - tiers.lower_bound
            else tiers.up_to - tiers.lower_bound
        end as tier_quantity,
        tiers.unit_price,
        tiers.flat_fee
    from charges
    inner join tiers
        on tiers.charge_key = charges.charge_key
    where tiers.tier_index = 1 or charges.quantity > tiers.lower_bound
)

select
    segment_id,
    charge_key,
    meter_id,
    charge_model,
    quantity,
    tier_index,
    tier_lower_bound,
    tier_up_to,
    tier_quantity,
    unit_price,
    flat_fee,
    cast({{ multiply_exact('tier_quantity', 'unit_price') }} + flat_fee as {{ exact_type() }}) as amount
from priced
