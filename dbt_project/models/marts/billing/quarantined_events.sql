{{ config(materialized='view') }}

-- Every rejected row, with the file and line it came from and why.
select
    source_file,
    source_line,
    reason,
    detail,
    event_id,
    raw_payload,
    quarantined_at
from {{ source('raw', 'quarantined_events') }}
