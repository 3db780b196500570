{#
  Layers land in schemas named as configured (staging, intermediate, main), not
  target-prefixed. var('schema_prefix') (default empty) puts a whole run in
  other schemas, e.g. sim_staging, sim_main: `billing simulate` re-rates
  history there and never writes the real ones.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ var('schema_prefix', '') ~ (custom_schema_name if custom_schema_name else target.schema) }}
{%- endmacro %}
