select
    grant_id,
    customer_id,
    amount,
    currency,
    kind as grant_kind,
    granted_at,
    expires_at
from {{ source('raw', 'credit_grants') }}
