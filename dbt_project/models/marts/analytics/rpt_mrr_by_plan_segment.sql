{#
  MRR and ARR by period, plan and customer segment, per currency (amounts in
  different currencies are never added). Built from fct_customer_mrr.
#}
select
    concat(
        cast(period_start as {{ dbt.type_string() }}), ':', plan_id, ':', segment, ':', currency
    ) as mrr_by_plan_segment_id,
    period_start,
    plan_id,
    segment,
    currency,
    count(*) as customers,
    cast(sum(mrr) as {{ money_type() }}) as mrr,
    cast(sum(arr) as {{ money_type() }}) as arr,
    cast(sum(usage_revenue) as {{ money_type() }}) as usage_revenue,
    cast(sum(fixed_revenue) as {{ money_type() }}) as fixed_revenue
from {{ ref('fct_customer_mrr') }}
group by period_start, plan_id, segment, currency
