{#
  `unique` and `not_null` for the run's period only, on per-event marts that
  keep every period (fct_usage_events, fct_usage_daily). A run rewrites only
  its own period, so checking the other periods again proves nothing new, and
  a global `unique` on event_id is a group-by over every event ever loaded:
  the very dedup the loader does once per file so that rating never has to.
#}

{% test unique_in_period(model, column_name) %}
select {{ column_name }} as unique_field, count(*) as n_records
from {{ model }}
where period_start = {{ period_start_date() }}
group by {{ column_name }}
having count(*) > 1
{% endtest %}

{% test not_null_in_period(model, column_name) %}
select {{ column_name }}
from {{ model }}
where period_start = {{ period_start_date() }}
    and {{ column_name }} is null
{% endtest %}
