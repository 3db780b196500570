-- charge_key names one price definition: a plan version's, or a customer's contract override.
select
    -- An override's charge has no plan version: its key has always been 'plan:v:meter', as
    -- DuckDB's concat reads NULL as ''; spelled out, Spark (whose concat of a NULL is NULL)
    -- makes the same key.
    concat(plan_id, ':v', coalesce(cast(plan_version as {{ dbt.type_string() }}), ''), ':', meter_id) as charge_key,
    plan_id,
    plan_version,
    customer_id as override_customer_id,
    meter_id,
    charge_model,
    unit_price,
    package_size,
    package_price,
    coalesce(free_units, 0) as free_units,
    rate,
    coalesce(fixed_fee, 0) as fixed_fee
from {{ source('raw', 'plan_charges') }}
