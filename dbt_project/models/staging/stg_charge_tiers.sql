select
    concat(plan_id, ':', coalesce(concat('v', cast(plan_version as {{ dbt.type_string() }})), concat('override:', customer_id)), ':', meter_id) as charge_key,
    tier_index,
    lower_bound,
    up_to,
    unit_price,
    flat_fee
from {{ source('raw', 'charge_tiers') }}
