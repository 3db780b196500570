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
  The most discount steps an invoice can have: the most discounts any one
  customer has (int_invoice_discounts_applied unrolls its walk to this many
  steps). Read from the warehouse when the model runs; a unit test, whose
  inputs are fixtures, states it as var('discount_steps').
#}
{% macro discount_steps() -%}
    {%- if var('discount_steps', none) is not none -%}
        {{ return(var('discount_steps') | int) }}
    {%- elif not execute -%}
        {{ return(0) }}
    {%- endif -%}
    {%- set most = run_query(
        'select coalesce(max(discount_count), 0) from (select count(*) as discount_count from '
        ~ ref('stg_discounts') ~ ' group by customer_id) as per_customer'
    ) -%}
    {{ return(most.columns[0].values()[0] | int) }}
{%- endmacro %}
