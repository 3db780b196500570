-- Every charge of every segment with its metered quantity: zero when no event matched.
with

charges as (
    select * from {{ ref('int_segment_charges_resolved') }}
),

usage as (
    select * from {{ ref('int_usage_aggregated_by_segment') }}
    where period_start = {{ period_start_date() }}
)

select
    charges.segment_id,
    charges.charge_key,
    charges.meter_id,
    charges.charge_model,
    charges.unit_price,
    charges.package_size,
    charges.package_price,
    charges.free_units,
    charges.rate,
    charges.fixed_fee,
    coalesce(usage.quantity, cast(0 as {{ exact_type() }})) as quantity,
    coalesce(usage.event_count, 0) as event_count,
    coalesce(usage.value_sum, cast(0 as {{ exact_type() }})) as value_sum
from charges
left join usage
    on usage.segment_id = charges.segment_id
    and usage.meter_id = charges.meter_id
