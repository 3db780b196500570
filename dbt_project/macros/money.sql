{#
  The money rules, in one place.

  Amounts are computed exactly in decimal(38, 12) and rounded once, where an
  invoice line is made, to the currency's minor unit, half away from zero.
  Operands of a product are bounded first (quantity to 6 decimals below
  10^14, price to 8 decimals below 10^9) so the product has precision 38 at
  most and scale 14 on every engine: Spark cuts decimal scale above precision
  38, and DuckDB overflows past 10^14 at scale 24. The product is then rounded
  to 12 decimals explicitly (half away from zero on both engines), never left
  to a cast or to the engine's precision rules. A value past its bound is an
  error on DuckDB and NULL on Spark (dbt-spark turns ANSI mode off): the marts'
  amounts have not-NULL tests (`not_null`, `not_null_columns`).
#}

{% macro money_type() %}decimal(18, 2){% endmacro %}

{% macro exact_type() %}decimal(38, 12){% endmacro %}

{% macro multiply_exact(quantity, price) -%}
    cast(round(cast({{ quantity }} as decimal(20, 6)) * cast({{ price }} as decimal(17, 8)), 12) as {{ exact_type() }})
{%- endmacro %}

{% macro round_money(amount, minor_units) -%}
    case
        when {{ minor_units }} = 0 then cast(round(cast({{ amount }} as {{ exact_type() }}), 0) as {{ money_type() }})
        else cast(round(cast({{ amount }} as {{ exact_type() }}), 2) as {{ money_type() }})
    end
{%- endmacro %}

{#
  amount × numerator / denominator, exact to 12 decimals (truncated there,
  toward zero, which never changes how the result rounds to a minor unit).
  No engine may divide decimals as it likes: DuckDB turns any decimal
  division into DOUBLE, Spark rounds a quotient to whatever scale its
  precision rules leave. So the quotient is made exact first.

  Bounds: |amount| < 10^12, numerator a whole number below 10^12 (seconds,
  counts, percentages), denominator a whole number below 10^18.
#}
{% macro prorate(amount, numerator, denominator) -%}
    {{ return(adapter.dispatch('prorate', 'billing')(amount, numerator, denominator)) }}
{%- endmacro %}

{#
  Without a 128-bit integer: p = amount × numerator is exact in
  decimal(37, 12); p minus its remainder modulo denominator × 10^-12 is a
  multiple of that, so dividing it by the denominator is exact at scale 12.
#}
{% macro default__prorate(amount, numerator, denominator) -%}
    {%- set product = 'cast(' ~ amount ~ ' as decimal(24, 12)) * cast(' ~ numerator ~ ' as decimal(12, 0))' -%}
    {%- set step = 'cast(' ~ denominator ~ ' as decimal(18, 0)) * cast(0.000000000001 as decimal(13, 12))' -%}
    cast(
        (({{ product }}) - ({{ product }}) % ({{ step }})) / cast({{ denominator }} as decimal(18, 0))
    as {{ exact_type() }})
{%- endmacro %}

{% macro duckdb__prorate(amount, numerator, denominator) -%}
    (cast(
        cast(cast({{ amount }} as {{ exact_type() }}) * 1000000000000 as hugeint)
            * cast({{ numerator }} as hugeint)
            // cast({{ denominator }} as hugeint)
    as decimal(38, 0)) * cast(0.000000000001 as decimal(13, 12)))
{%- endmacro %}

{#
  ceil(numerator / denominator) for non-negative decimals below 10^12, exactly:
  the whole quotient (numerator less its remainder, divided) plus one when a
  remainder is left.
#}
{% macro ceil_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('ceil_divide', 'billing')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__ceil_divide(numerator, denominator) -%}
    {%- set n = 'cast(' ~ numerator ~ ' as decimal(24, 12))' -%}
    {%- set d = 'cast(' ~ denominator ~ ' as decimal(24, 12))' -%}
    cast(
        cast(({{ n }} - {{ n }} % {{ d }}) / {{ d }} as decimal(38, 0))
            + case when {{ n }} % {{ d }} > 0 then 1 else 0 end
    as bigint)
{%- endmacro %}

{% macro duckdb__ceil_divide(numerator, denominator) -%}
    cast(
        (cast(cast({{ numerator }} as {{ exact_type() }}) * 1000000000000 as hugeint)
            + cast(cast({{ denominator }} as {{ exact_type() }}) * 1000000000000 as hugeint) - 1)
        // cast(cast({{ denominator }} as {{ exact_type() }}) * 1000000000000 as hugeint)
    as bigint)
{%- endmacro %}
