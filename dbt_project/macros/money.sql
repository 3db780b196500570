{#
  The money rules, in one place.

  Amounts are computed exactly in decimal(38, 12) and rounded once, where an
  invoice line is made, to the currency's minor unit, half away from zero.
  Operands of a product are bounded first (quantity to 6 decimals, price to
  8) so the product fits decimal(38, 14) exactly on every engine: Spark cuts
  decimal scale above precision 38, and DuckDB overflows past 10^14 at scale 24.
#}

{% macro money_type() %}decimal(18, 2){% endmacro %}

{% macro exact_type() %}decimal(38, 12){% endmacro %}

{% macro multiply_exact(quantity, price) -%}
    cast(cast({{ quantity }} as decimal(20, 6)) * cast({{ price }} as decimal(18, 8)) as {{ exact_type() }})
{%- endmacro %}

{% macro round_money(amount, minor_units) -%}
    case
        when {{ minor_units }} = 0 then cast(round(cast({{ amount }} as {{ exact_type() }}), 0) as {{ money_type() }})
        else cast(round(cast({{ amount }} as {{ exact_type() }}), 2) as {{ money_type() }})
    end
{%- endmacro %}

{#
  amount × numerator / denominator, exact to 12 decimals (truncated there,
  which never changes how the result rounds to a minor unit). DuckDB turns any
  decimal division into DOUBLE, so it divides scaled integers instead.
#}
{% macro prorate(amount, numerator, denominator) -%}
    {{ return(adapter.dispatch('prorate', 'billing')(amount, numerator, denominator)) }}
{%- endmacro %}

{% macro default__prorate(amount, numerator, denominator) -%}
    cast(cast({{ amount }} as {{ exact_type() }}) * {{ numerator }} / {{ denominator }} as {{ exact_type() }})
{%- endmacro %}

{% macro duckdb__prorate(amount, numerator, denominator) -%}
    (cast(
        cast(cast({{ amount }} as {{ exact_type() }}) * 1000000000000 as hugeint)
            * cast({{ numerator }} as hugeint)
            // cast({{ denominator }} as hugeint)
    as decimal(38, 0)) * cast(0.000000000001 as decimal(13, 12)))
{%- endmacro %}

{# ceil(numerator / denominator) for non-negative decimals, exactly. #}
{% macro ceil_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('ceil_divide', 'billing')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__ceil_divide(numerator, denominator) -%}
    cast(ceil(cast({{ numerator }} as {{ exact_type() }}) / cast({{ denominator }} as {{ exact_type() }})) as bigint)
{%- endmacro %}

{% macro duckdb__ceil_divide(numerator, denominator) -%}
    cast(
        (cast(cast({{ numerator }} as {{ exact_type() }}) * 1000000000000 as hugeint)
            + cast(cast({{ denominator }} as {{ exact_type() }}) * 1000000000000 as hugeint) - 1)
        // cast(cast({{ denominator }} as {{ exact_type() }}) * 1000000000000 as hugeint)
    as bigint)
{%- endmacro %}
