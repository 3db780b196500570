{#
  Helpers of the analyst marts (models/marts/analytics).

  percent_of: part / whole × 100, rounded half away from zero to 2 decimals,
  null when whole is 0. Both sides are first rounded to 6 decimals (exact for
  money and for quantities up to ~9 × 10^12) and divided by the `prorate`
  macro, exact on every engine. Rounding to 2 decimals a quotient truncated
  at 6 or more decimals gives the exact quotient's rounding, so the engines
  agree whatever scale each truncates at.
#}
{% macro percent_of(part, whole) -%}
    case
        when {{ whole }} = 0 or {{ whole }} is null or {{ part }} is null then null
        else cast(round({{ adapter.dispatch('percent_quotient', 'billing')(part, whole) }}, 2) as decimal(18, 2))
    end
{%- endmacro %}

{# DuckDB divides the scaled integers, as 128-bit integers. #}
{% macro duckdb__percent_quotient(part, whole) -%}
    {{ prorate(
        100,
        'cast(round(cast(' ~ part ~ ' as ' ~ exact_type() ~ ') * 1000000, 0) as bigint)',
        'cast(round(cast(' ~ whole ~ ' as ' ~ exact_type() ~ ') * 1000000, 0) as bigint)'
    ) }}
{%- endmacro %}

{#
  Elsewhere within prorate's bounds (amount below 10^12, numerator below
  10^12): part × 100 / (whole × 10^6) is exact to 12 decimals, so × 10^6 it is
  the percentage truncated at 6.
#}
{% macro default__percent_quotient(part, whole) -%}
    {{ prorate(
        'round(cast(' ~ part ~ ' as ' ~ exact_type() ~ '), 6)',
        100,
        'cast(round(cast(' ~ whole ~ ' as ' ~ exact_type() ~ ') * 1000000, 0) as bigint)'
    ) }} * 1000000
{%- endmacro %}

{# The first day of the month after a period_start date column. #}
{% macro next_period_start(period_start) -%}
    cast({{ dbt.dateadd('month', 1, period_start) }} as date)
{%- endmacro %}
