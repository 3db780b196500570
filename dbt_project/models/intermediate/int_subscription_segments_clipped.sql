{#
  Rule 1 (segments) and rule 4's trial: each subscription row clipped to the
  period is a segment, with the plan version in effect at the period's start,
  the customer's contract overrides applied to its fees, and the seconds that
  bear fees (active seconds minus seconds inside the customer's trial).
#}
with

subscriptions as (
    select * from {{ ref('stg_subscriptions') }}
),

plans as (
    select * from {{ ref('stg_plans') }}
),

overrides as (
    select * from {{ ref('stg_plan_overrides') }}
),

clipped as (
    select
        subscription_id,
        customer_id,
        plan_id,
        seats,
        case when started_at > {{ period_start_ts() }} then started_at else {{ period_start_ts() }} end as segment_start,
        case
            when ended_at is null or ended_at > {{ period_end_ts() }} then {{ period_end_ts() }}
            else ended_at
        end as segment_end
    from subscriptions
    where started_at < {{ period_end_ts() }}
        and (ended_at is null or ended_at > {{ period_start_ts() }})
),

-- A customer's trial runs from their earliest subscription's start, for the
-- trial_days of that plan's version in effect then, and never restarts.
first_subscriptions as (
    select
        customer_id,
        plan_id,
        started_at,
        row_number() over (partition by customer_id order by started_at, subscription_id) as subscription_rank
    from subscriptions
),

trials as (
    select
        first_subscriptions.customer_id,
        first_subscriptions.started_at as trial_start,
        {{ dbt.dateadd('day', 'coalesce(overrides.trial_days, plans.trial_days)', 'first_subscriptions.started_at') }} as trial_end
    from first_subscriptions
    inner join plans
        on plans.plan_id = first_subscriptions.plan_id
        and plans.effective_from <= cast(first_subscriptions.started_at as date)
        and (plans.effective_to is null or plans.effective_to > cast(first_subscriptions.started_at as date))
    left join overrides
        on overrides.customer_id = first_subscriptions.customer_id
        and overrides.plan_id = first_subscriptions.plan_id
    where first_subscriptions.subscription_rank = 1
),

segments as (
    select
        concat(clipped.subscription_id, '@', '{{ var("period") }}') as segment_id,
        clipped.subscription_id,
        clipped.customer_id,
        clipped.plan_id,
        plans.plan_version,
        plans.plan_name,
        plans.currency,
        clipped.seats,
        clipped.segment_start,
        clipped.segment_end,
        {{ dbt.datediff(period_start_ts(), period_end_ts(), 'second') }} as seconds_in_period,
        {{ dbt.datediff('clipped.segment_start', 'clipped.segment_end', 'second') }} as seconds_active,
        case
            when trials.trial_end > clipped.segment_start and trials.trial_start < clipped.segment_end
                then {{ dbt.datediff(
                    'greatest(trials.trial_start, clipped.segment_start)',
                    'least(trials.trial_end, clipped.segment_end)',
                    'second') }}
            else 0
        end as seconds_in_trial,
        coalesce(overrides.base_fee, plans.base_fee) as base_fee,
        coalesce(overrides.seat_fee, plans.seat_fee) as seat_fee,
        coalesce(overrides.included_seats, plans.included_seats) as included_seats,
        coalesce(overrides.minimum_commitment, plans.minimum_commitment) as minimum_commitment
    from clipped
    left join plans
        on plans.plan_id = clipped.plan_id
        and plans.effective_from <= {{ period_start_date() }}
        and (plans.effective_to is null or plans.effective_to > {{ period_start_date() }})
    left join overrides
        on overrides.customer_id = clipped.customer_id
        and overrides.plan_id = clipped.plan_id
    left join trials
        on trials.customer_id = clipped.customer_id
)

select
    segment_id,
    subscription_id,
    customer_id,
    plan_id,
    plan_version,
    plan_name,
    currency,
    seats,
    segment_start,
    segment_end,
    seconds_in_period,
    seconds_active,
    seconds_in_trial,
    seconds_active - seconds_in_trial as seconds_billable,
    base_fee,
    seat_fee,
    included_seats,
    minimum_commitment,
    {{ period_start_date() }} as period_start
from segments
