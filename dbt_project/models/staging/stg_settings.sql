select
    invoice_grace_days,
    payment_grace_days,
    invoice_prefix,
    future_tolerance_minutes,
    company_name
from {{ source('raw', 'settings') }}
