{#
  Whether a discount's applies_to names an invoice line: `all` names base fee,
  seat fee, usage and minimum true-up lines; `base_fee` the base fee; any other
  value is a meter id and names that meter's usage lines.
#}
{% macro discount_names_line(applies_to, line_type, meter_id) -%}
    (
        ({{ applies_to }} = 'all' and {{ line_type }} in ('base_fee', 'seat_fee', 'usage', 'minimum_true_up'))
        or ({{ applies_to }} = 'base_fee' and {{ line_type }} = 'base_fee')
        or ({{ line_type }} = 'usage' and {{ meter_id }} = {{ applies_to }})
    )
{%- endmacro %}

{#
  Whether a discount applies to the run's period: it started by then and, if
  it has cycles, the period is within that many calendar months of its first.
#}
{% macro discount_applies_in_period(first_period, cycles) -%}
    (
        {{ first_period }} <= {{ period_start_date() }}
        and (
            {{ cycles }} is null
            or {{ dbt.datediff(first_period, period_start_date(), 'month') }} < {{ cycles }}
        )
    )
{%- endmacro %}

{#
  The most discount steps an invoice of the run's period can have: the most
  discounts that apply to the period for any one customer
  (int_invoice_discounts_applied unrolls its walk to this many steps). Counted
  for the period, not over all discounts ever given: a customer's expired
  promotions would otherwise lengthen every later period's walk, and on Spark
  each step makes the query plan longer. Read from the warehouse when the
  model runs; a unit test, whose inputs are fixtures, states it as
  var('discount_steps').
#}
{% macro discount_steps() -%}
    {%- if var('discount_steps', none) is not none -%}
        {{ return(var('discount_steps') | int) }}
    {%- elif not execute -%}
        {{ return(0) }}
    {%- endif -%}
    {%- set most = run_query(
        'select coalesce(max(discount_count), 0) from (select count(*) as discount_count from '
        ~ ref('stg_discounts') ~ ' where '
        ~ discount_applies_in_period('first_period', 'cycles')
        ~ ' group by customer_id) as per_customer'
    ) -%}
    {{ return(most.columns[0].values()[0] | int) }}
{%- endmacro %}
