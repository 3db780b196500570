select
    discount_id,
    customer_id,
    kind as discount_kind,
    value as discount_value,
    applies_to,
    first_period,
    cycles
from {{ source('raw', 'discounts') }}
