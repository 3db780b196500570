select
    customer_id,
    plan_id,
    base_fee,
    seat_fee,
    included_seats,
    trial_days,
    minimum_commitment
from {{ source('raw', 'plan_overrides') }}
