{{ config(meta={'dagster': {'ref': {'name': 'fct_rated_usage'}}}) }}

-- Guards fct_rated_usage's list of charge models: no charge of the period goes unrated.
select charges.segment_id, charges.meter_id, charges.charge_model
from {{ ref('int_segment_charges_with_usage') }} as charges
left join {{ ref('fct_rated_usage') }} as rated
    on rated.segment_id = charges.segment_id
    and rated.meter_id = charges.meter_id
where rated.segment_id is null
