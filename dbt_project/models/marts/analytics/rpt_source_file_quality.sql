{#
  Load quality per landed file (file name × content hash; a changed file is
  loaded again under the same name): rows, and the share of them that were
  duplicates or quarantined, with the quarantine reasons. A file is flagged
  when more than 1 % of its rows were quarantined or more than 5 % were
  duplicates: producers resend a little, but not that much.
#}
with

landed_files as (
    select * from {{ source('raw', 'landed_files') }}
),

quarantined as (
    select * from {{ source('raw', 'quarantined_events') }}
),

reasons as (
    select source_file, reason, count(*) as rows_quarantined
    from quarantined
    group by source_file, reason
),

reasons_by_file as (
    select
        source_file,
        {{ ordered_listagg(
            "concat(reason, ' ', cast(rows_quarantined as " ~ dbt.type_string() ~ "))",
            "', '",
            ['rows_quarantined desc', 'reason']) }} as quarantine_reasons
    from reasons
    group by source_file
),

rated as (
    select
        landed_files.*,
        {{ percent_of('landed_files.duplicate_count', 'landed_files.row_count') }} as duplicate_rate_percent,
        {{ percent_of('landed_files.quarantined_count', 'landed_files.row_count') }} as quarantine_rate_percent
    from landed_files
)

select
    concat(rated.file_name, ':', rated.content_hash) as landed_file_id,
    rated.file_name,
    rated.content_hash,
    rated.loaded_at,
    rated.row_count,
    rated.loaded_count,
    rated.duplicate_count,
    rated.quarantined_count,
    coalesce(rated.duplicate_rate_percent, 0) as duplicate_rate_percent,
    coalesce(rated.quarantine_rate_percent, 0) as quarantine_rate_percent,
    coalesce(reasons_by_file.quarantine_reasons, '') as quarantine_reasons,
    case
        when coalesce(rated.quarantine_rate_percent, 0) > 1 or coalesce(rated.duplicate_rate_percent, 0) > 5 then true
        else false
    end as is_flagged
from rated
left join reasons_by_file
    on reasons_by_file.source_file = rated.file_name
