{#
  `primary_key` and `not_null_columns` for the run's period only, on per-event
  marts that keep every period (fct_usage_events, fct_usage_daily). A run rewrites
  only its own period, so checking the other periods again proves nothing new,
  and a global check of event_id is a group-by over every event ever loaded:
  the very dedup the loader does once per file so that rating never has to.
#}

{% test primary_key_in_period(model, column_name) %}
{{ key_violations(model, column_name, where="period_start = " ~ period_start_date()) }}
{% endtest %}

{% test not_null_columns_in_period(model, column_names) %}
{{ null_column_rows(model, column_names, where="period_start = " ~ period_start_date()) }}
{% endtest %}
