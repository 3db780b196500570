{#
  How the period-incremental models (one run, one period: the billing and
  finance marts, the aggregation) replace the run's period.

  DuckDB, incremental_strategy 'period': delete every row of the run's period,
  and of any other period the new rows hold, then insert the new rows. dbt's
  delete+insert deleted only the periods the new rows hold, so a period that
  a re-run leaves without rows (no event matching any meter any more, every
  subscription moved past it) kept its old ones, and billed them.

  Spark, insert_overwrite: its dynamic partition overwrite replaces only the
  partitions the new rows fall in, the same gap. So before the per-event
  models and the aggregation insert (their `+pre-hook` in dbt_project.yml),
  the run's period partition is dropped; a crash between the two leaves the
  period without rows until the run is repeated. Not before the marts': they
  re-select a finalized invoice's frozen rows from their own table, and
  dbt-spark reads the model through a view, after the hook. A mart whose
  whole period a re-run leaves without rows keeps them on Spark.
#}
{% macro get_incremental_period_sql(arg_dict) -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
delete from {{ arg_dict['target_relation'] }}
where period_start = {{ period_start_date() }}
    or period_start in (select period_start from {{ arg_dict['temp_relation'] }});
insert into {{ arg_dict['target_relation'] }} ({{ columns }})
select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}

{% macro drop_run_period_partition() -%}
    {%- if target.type == 'spark' and is_incremental() -%}
        alter table {{ this }} drop if exists partition (period_start = '{{ _period_bounds()[0] }}')
    {%- endif -%}
{%- endmacro %}
