{#
  The charges that apply to each segment: the plan version's charges, where a
  customer's contract override replaces the charge for a meter it names (or
  adds one the plan lacks); the plan's other charges stay.
#}
with

segments as (
    select * from {{ ref('int_subscription_segments_clipped') }}
),

charges as (
    select * from {{ ref('stg_plan_charges') }}
),

override_charges as (
    select
        segments.segment_id,
        charges.*
    from segments
    inner join charges
        on charges.override_customer_id = segments.customer_id
        and charges.plan_id = segments.plan_id
),

plan_charges as (
    select
        segments.segment_id,
        charges.*
    from segments
    inner join charges
        on charges.override_customer_id is null
        and charges.plan_id = segments.plan_id
        and charges.plan_version = segments.plan_version
    left join override_charges
        on override_charges.segment_id = segments.segment_id
        and override_charges.meter_id = charges.meter_id
    where override_charges.segment_id is null
)

select * from override_charges
union all
select * from plan_charges
