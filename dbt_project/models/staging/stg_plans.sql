-- A plan version is in effect from its effective_from until the next version's.
select
    plan_id,
    plan_version,
    name as plan_name,
    effective_from,
    lead(effective_from) over (partition by plan_id order by effective_from) as effective_to,
    currency,
    base_fee,
    seat_fee,
    included_seats,
    trial_days,
    minimum_commitment
from {{ source('raw', 'plans') }}
