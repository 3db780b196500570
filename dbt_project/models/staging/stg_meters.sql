select
    meter_id,
    name as meter_name,
    unit as meter_unit,
    event_type,
    aggregation,
    field as meter_field,
    property_name
from {{ source('raw', 'meters') }}
