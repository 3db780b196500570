{#
  A key column: never NULL and never repeated. One data test and one group-by
  where dbt's `unique` and `not_null` were two of each: every data test is a
  node of its own in each run, ~50 ms of dbt and Dagster whatever the data.
  Each failing row is a key value that is NULL or repeated, with its rows.
#}

{% macro key_violations(model, column_name, where=none) %}
select {{ column_name }} as key_value, count(*) as n_records
from {{ model }}
{% if where %}where {{ where }}{% endif %}
group by {{ column_name }}
having count(*) > 1 or {{ column_name }} is null
{% endmacro %}

{% test primary_key(model, column_name) %}
{{ key_violations(model, column_name) }}
{% endtest %}
