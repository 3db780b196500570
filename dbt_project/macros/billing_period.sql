{#
  The billing period of a run: the calendar month named by var('period')
  ("YYYY-MM"), as the half-open window [period_start, period_end) in UTC.
  Every period-scoped model filters with these and nothing else.
#}

{% macro _period_bounds() %}
    {% set period = var('period') | string %}
    {% if not modules.re.match('^[0-9]{4}-[0-9]{2}$', period) %}
        {{ exceptions.raise_compiler_error("var('period') must be YYYY-MM, got '" ~ period ~ "'") }}
    {% endif %}
    {% set year, month = period.split('-') | map('int') | list %}
    {% set next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1) %}
    {{ return(["%04d-%02d-01" | format(year, month), "%04d-%02d-01" | format(next_year, next_month)]) }}
{% endmacro %}

{% macro period_start_date() %}cast('{{ _period_bounds()[0] }}' as date){% endmacro %}

{% macro period_end_date() %}cast('{{ _period_bounds()[1] }}' as date){% endmacro %}

{% macro period_start_ts() %}cast('{{ _period_bounds()[0] }} 00:00:00' as timestamp){% endmacro %}

{% macro period_end_ts() %}cast('{{ _period_bounds()[1] }} 00:00:00' as timestamp){% endmacro %}

{# The run's "now": var('as_of') when given (UTC), else the current time. #}
{% macro as_of_ts() %}
    {%- if var('as_of') -%}
        cast('{{ var("as_of") }}' as timestamp)
    {%- else -%}
        cast({{ dbt.current_timestamp() }} as timestamp)
    {%- endif -%}
{% endmacro %}

{#
  The invoice lifecycle's one finalization rule: a period's invoices (and
  the credits they apply) are finalized once the run's as-of reaches
  period_end + invoice_grace_days.
#}
{% macro period_is_finalized(invoice_grace_days) -%}
    case
        when {{ as_of_ts() }} >= {{ dbt.dateadd('day', invoice_grace_days, period_end_ts()) }} then true
        else false
    end
{%- endmacro %}
