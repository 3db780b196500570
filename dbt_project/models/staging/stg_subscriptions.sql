select
    subscription_id,
    customer_id,
    plan_id,
    started_at,
    ended_at,
    seats
from {{ source('raw', 'subscriptions') }}
