{#
  Helpers of the analyst marts (models/marts/analytics).

  percent_of: part / whole × 100, rounded half away from zero to 2 decimals,
  null when whole is 0. DuckDB turns decimal / decimal into DOUBLE, so both
  sides are scaled to integers (6 decimals kept, exact for money and for
  quantities up to ~9 × 10^12) and divided by the `prorate` macro, which is
  exact to 12 decimals on every engine.
#}
{% macro percent_of(part, whole) -%}
    case
        when {{ whole }} = 0 or {{ whole }} is null or {{ part }} is null then null
        else cast(round({{ prorate(
            100,
            'cast(round(cast(' ~ part ~ ' as ' ~ exact_type() ~ ') * 1000000, 0) as bigint)',
            'cast(round(cast(' ~ whole ~ ' as ' ~ exact_type() ~ ') * 1000000, 0) as bigint)'
        ) }}, 2) as decimal(18, 2))
    end
{%- endmacro %}

{# The first day of the month after a period_start date column. #}
{% macro next_period_start(period_start) -%}
    cast({{ dbt.dateadd('month', 1, period_start) }} as date)
{%- endmacro %}
