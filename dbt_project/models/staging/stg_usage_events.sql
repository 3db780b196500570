select
    event_id,
    customer_id,
    event_type,
    event_timestamp,
    quantity,
    properties,
    source_file,
    source_line,
    loaded_at,
    load_id
from {{ source('raw', 'usage_events') }}
