select
    customer_id,
    name as customer_name,
    email,
    currency,
    tax_rate,
    country,
    segment,
    address_line1,
    address_line2,
    city,
    region,
    postal_code
from {{ source('raw', 'customers') }}
