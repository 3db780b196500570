{# Layers land in schemas named as configured (staging, intermediate, main), not target-prefixed. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name else target.schema }}
{%- endmacro %}
