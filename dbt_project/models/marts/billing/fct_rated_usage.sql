{#
  Rated usage at tier level: customer × period × segment × meter × tier, with
  exact (unrounded) amounts. One intermediate model per charge model; a
  singular test checks no charge of the period is missing from this union.
#}
{% set charge_models = ['per_unit', 'graduated', 'volume', 'package', 'percentage'] %}

with

rated as (
    {% for charge_model in charge_models %}
    select * from {{ ref('int_charges__' ~ charge_model) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

segments as (
    select * from {{ ref('int_subscription_segments_clipped') }}
)

select
    concat(rated.segment_id, ':', rated.meter_id, ':', cast(rated.tier_index as {{ dbt.type_string() }})) as rated_usage_id,
    segments.customer_id,
    segments.period_start,
    rated.segment_id,
    segments.subscription_id,
    segments.plan_id,
    segments.plan_version,
    rated.charge_key,
    rated.meter_id,
    rated.charge_model,
    rated.quantity,
    rated.tier_index,
    rated.tier_lower_bound,
    rated.tier_up_to,
    rated.tier_quantity,
    rated.unit_price,
    rated.flat_fee,
    rated.amount,
    segments.currency
from rated
inner join segments
    on segments.segment_id = rated.segment_id
