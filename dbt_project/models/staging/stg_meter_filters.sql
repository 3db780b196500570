select
    meter_id,
    property_name,
    property_value
from {{ source('raw', 'meter_filters') }}
