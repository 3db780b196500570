{#
  Columns of a model that are never NULL, checked in one scan of it: dbt's
  `not_null` is a data test per column, and every data test is a node of its
  own in each run, ~35 ms of dbt and Dagster whatever the data (a period's
  two runs had 39 of them). Each failing row names the columns that are NULL
  together and counts the rows where they are.
#}

{% macro null_column_rows(model, column_names, where=none) %}
select null_columns, count(*) as n_records
from (
    select concat_ws(', '
        {%- for column in column_names %},
        case when {{ column }} is null then '{{ column }}' end
        {%- endfor %}
    ) as null_columns
    from {{ model }}
    where ({% for column in column_names %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %})
    {% if where %}and {{ where }}{% endif %}
) as rows_with_nulls
group by null_columns
{% endmacro %}

{% test not_null_columns(model, column_names) %}
{{ null_column_rows(model, column_names) }}
{% endtest %}
