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
