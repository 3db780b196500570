select
    -- As in stg_plan_charges: an override's key is 'plan:v:meter' on every engine.
    concat(plan_id, ':v', coalesce(cast(plan_version as {{ dbt.type_string() }}), ''), ':', meter_id) as charge_key,
    tier_index,
    lower_bound,
    up_to,
    unit_price,
    flat_fee
from {{ source('raw', 'charge_tiers') }}
