{# Engine-specific text helpers for invoice descriptions, behind dispatch. #}

{% macro json_text(json_column, key_column) -%}
    {{ return(adapter.dispatch('json_text', 'billing')(json_column, key_column)) }}
{%- endmacro %}

{% macro default__json_text(json_column, key_column) -%}
    get_json_object({{ json_column }}, concat('$.', {{ key_column }}))
{%- endmacro %}

{% macro duckdb__json_text(json_column, key_column) -%}
    json_extract_string({{ json_column }}, concat('$.', {{ key_column }}))
{%- endmacro %}

{#
  A decimal as text with 12 decimals, as DuckDB writes a decimal(38, 12):
  0.000000000000, -0.500000000000. Spark writes a decimal as Java does, in
  scientific notation below 10^-6 (0E-12, 1.00000E-7), so there the digits
  of the scaled whole number are written out and the point put back.
#}
{% macro exact_text(value) -%}
    {{ return(adapter.dispatch('exact_text', 'billing')(value)) }}
{%- endmacro %}

{% macro default__exact_text(value) -%}
    {%- set exact = 'cast(' ~ value ~ ' as ' ~ exact_type() ~ ')' -%}
    {%- set whole = "cast(cast(abs(" ~ exact ~ ") * 1000000000000 as decimal(38, 0)) as string)" -%}
    {#- lpad cuts a longer text to the length: pad to at least 13 digits, never fewer. -#}
    {%- set digits = "lpad(" ~ whole ~ ", greatest(length(" ~ whole ~ "), 13), '0')" -%}
    concat(
        case when {{ exact }} < 0 then '-' else '' end,
        substr({{ digits }}, 1, length({{ digits }}) - 12),
        '.',
        substr({{ digits }}, -12)
    )
{%- endmacro %}

{% macro duckdb__exact_text(value) -%}
    cast(cast({{ value }} as {{ exact_type() }}) as varchar)
{%- endmacro %}

{# A decimal as short text: 0.001000000000 -> 0.001, 100000.000000000000 -> 100000 #}
{% macro decimal_text(value) -%}
    {{ return(adapter.dispatch('decimal_text', 'billing')(value)) }}
{%- endmacro %}

{% macro default__decimal_text(value) -%}
    regexp_replace(regexp_replace({{ exact_text(value) }}, '0+$', ''), '[.]$', '')
{%- endmacro %}

{% macro duckdb__decimal_text(value) -%}
    rtrim(rtrim(cast(cast({{ value }} as {{ exact_type() }}) as varchar), '0'), '.')
{%- endmacro %}

{# A unit price with its currency symbol, all its decimals kept: $0.0008, €20, ¥0.5 #}
{% macro price_text(value, symbol) -%}
    concat({{ symbol }}, {{ decimal_text(value) }})
{%- endmacro %}

{# "Oct 11" #}
{% macro day_label(ts) -%}
    {{ return(adapter.dispatch('day_label', 'billing')(ts)) }}
{%- endmacro %}

{% macro default__day_label(ts) -%}
    date_format({{ ts }}, 'MMM d')
{%- endmacro %}

{% macro duckdb__day_label(ts) -%}
    strftime({{ ts }}, '%b %-d')
{%- endmacro %}

{# A rounded amount as text in its currency's minor units: 60.00 (USD), 100 (JPY). #}
{% macro money_text(amount, minor_units) -%}
    case
        when {{ minor_units }} = 0 then cast(cast({{ amount }} as bigint) as {{ dbt.type_string() }})
        else cast(cast({{ amount }} as {{ money_type() }}) as {{ dbt.type_string() }})
    end
{%- endmacro %}

{# "Sep 2026" #}
{% macro month_label(day) -%}
    {{ return(adapter.dispatch('month_label', 'billing')(day)) }}
{%- endmacro %}

{% macro default__month_label(day) -%}
    date_format({{ day }}, 'MMM yyyy')
{%- endmacro %}

{% macro duckdb__month_label(day) -%}
    strftime({{ day }}, '%b %Y')
{%- endmacro %}

{#
  listagg in a given order: the texts of a group joined with delimiter_text (a
  SQL literal), ordered by `order_by`, a list of expressions each optionally
  followed by ' desc' (numbers only). dbt's own listagg ignores the order on
  Spark, where collect_list keeps none.
#}
{% macro ordered_listagg(measure, delimiter_text, order_by) -%}
    {{ return(adapter.dispatch('ordered_listagg', 'billing')(measure, delimiter_text, order_by)) }}
{%- endmacro %}

{% macro default__ordered_listagg(measure, delimiter_text, order_by) -%}
    {{ dbt.listagg(measure, delimiter_text, 'order by ' ~ order_by | join(', ')) }}
{%- endmacro %}

{#
  Spark: collect (sort keys, text) pairs, sort them (structs sort field by
  field; a descending number is negated), keep the texts. Spark reads a
  backslash in a string literal as an escape, so it is doubled to mean what
  it means on DuckDB.
#}
{% macro spark__ordered_listagg(measure, delimiter_text, order_by) -%}
    {%- set keys = [] -%}
    {%- for key in order_by -%}
        {%- if key.lower().endswith(' desc') -%}
            {%- do keys.append('-(' ~ key[:-5] ~ ') as sort_key_' ~ loop.index) -%}
        {%- else -%}
            {%- do keys.append(key ~ ' as sort_key_' ~ loop.index) -%}
        {%- endif -%}
    {%- endfor -%}
    array_join(
        transform(
            array_sort(collect_list(struct({{ keys | join(', ') }}, {{ measure }} as item))),
            entry -> entry.item
        ),
        {{ delimiter_text | replace('\\', '\\\\') }}
    )
{%- endmacro %}
