{#
  Month-over-month revenue retention per period and currency.

  The cohort is every customer with MRR above zero in the previous period.
  starting_mrr is their MRR then; retained_mrr is the same customers' MRR now
  (0 for those who left). expansion and contraction are the increases and
  decreases of customers still paying; churned_mrr the previous MRR of those
  now at zero; new_mrr the MRR of customers outside the cohort.

    net revenue retention   = retained_mrr / starting_mrr × 100
                            = (starting + expansion − contraction − churned) / starting
    gross revenue retention = (starting − contraction − churned) / starting × 100

  The first period has no cohort: its percentages are null.
#}
with

mrr as (
    select customer_id, period_start, currency, mrr
    from {{ ref('fct_customer_mrr') }}
),

periods as (
    select distinct period_start, currency from mrr
),

customers_of_period as (
    -- every customer billed in the period or in the one before it
    select distinct
        periods.period_start,
        periods.currency,
        mrr.customer_id
    from periods
    inner join mrr
        on mrr.currency = periods.currency
        and (
            mrr.period_start = periods.period_start
            or mrr.period_start = cast({{ dbt.dateadd('month', -1, 'periods.period_start') }} as date)
        )
),

paired as (
    select
        customers_of_period.period_start,
        customers_of_period.currency,
        customers_of_period.customer_id,
        coalesce(previous_period.mrr, 0) as previous_mrr,
        coalesce(current_period.mrr, 0) as current_mrr
    from customers_of_period
    left join mrr as current_period
        on current_period.customer_id = customers_of_period.customer_id
        and current_period.currency = customers_of_period.currency
        and current_period.period_start = customers_of_period.period_start
    left join mrr as previous_period
        on previous_period.customer_id = customers_of_period.customer_id
        and previous_period.currency = customers_of_period.currency
        and previous_period.period_start = cast({{ dbt.dateadd('month', -1, 'customers_of_period.period_start') }} as date)
),

movements as (
    select
        period_start,
        currency,
        sum(case when previous_mrr > 0 then previous_mrr else 0 end) as starting_mrr,
        sum(case when previous_mrr > 0 then current_mrr else 0 end) as retained_mrr,
        sum(case when previous_mrr > 0 and current_mrr > previous_mrr then current_mrr - previous_mrr else 0 end) as expansion_mrr,
        sum(case when previous_mrr > 0 and current_mrr > 0 and current_mrr < previous_mrr then previous_mrr - current_mrr else 0 end) as contraction_mrr,
        sum(case when previous_mrr > 0 and current_mrr <= 0 then previous_mrr else 0 end) as churned_mrr,
        sum(case when previous_mrr <= 0 then current_mrr else 0 end) as new_mrr,
        sum(current_mrr) as ending_mrr
    from paired
    group by period_start, currency
)

select
    concat(cast(period_start as {{ dbt.type_string() }}), ':', currency) as net_revenue_retention_id,
    period_start,
    currency,
    cast(starting_mrr as {{ money_type() }}) as starting_mrr,
    cast(expansion_mrr as {{ money_type() }}) as expansion_mrr,
    cast(contraction_mrr as {{ money_type() }}) as contraction_mrr,
    cast(churned_mrr as {{ money_type() }}) as churned_mrr,
    cast(new_mrr as {{ money_type() }}) as new_mrr,
    cast(retained_mrr as {{ money_type() }}) as retained_mrr,
    cast(ending_mrr as {{ money_type() }}) as ending_mrr,
    {{ percent_of('retained_mrr', 'starting_mrr') }} as net_revenue_retention_percent,
    {{ percent_of('starting_mrr - contraction_mrr - churned_mrr', 'starting_mrr') }} as gross_revenue_retention_percent
from movements
