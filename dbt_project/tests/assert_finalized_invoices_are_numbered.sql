{{ config(meta={'dagster': {'ref': {'name': 'fct_invoice_register'}}}) }}

-- A finalized invoice has a number; a draft has none; numbers have no gaps.
with numbered as (
    select count(*) as issued, max(invoice_sequence) as highest
    from {{ ref('fct_invoice_register') }}
    where invoice_sequence is not null
)

select invoice_id, status, invoice_number
from {{ ref('fct_invoice_register') }}
where (status = 'draft') <> (invoice_number is null)
union all
select 'sequence has gaps', cast(issued as {{ dbt.type_string() }}), cast(highest as {{ dbt.type_string() }})
from numbered
where coalesce(highest, 0) <> issued
