select
    customer_id,
    meter_id,
    limit_quantity
from {{ source('raw', 'usage_limits') }}
