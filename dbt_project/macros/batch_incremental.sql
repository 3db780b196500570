{#
  Per-event models that add a re-run's new events instead of deriving the
  whole period again: fct_usage_events and int_usage_events_matched_to_meters
  add rows; int_usage_aggregated_by_segment and fct_usage_daily add the new
  events' totals to what they held.

  Why it is exact: a period's events only ever grow. Each landing file loaded
  has the next raw load_id, and a load never changes or removes an event
  already loaded. Each of these models derives its rows from the events and
  from a small basis: the period's subscription segments, the meters and
  their filters, the model's own SQL. Every row carries its basis_fingerprint,
  a fingerprint of that basis. A re-run of a period whose basis is unchanged
  derives only the events of loads newer than those it holds. A re-run whose
  basis changed derives the period again, as when a subscription was edited,
  a meter's filter changed, or the model's SQL changed. Either way the period
  ends as a full rebuild would leave it, and the models' dbt unit tests and
  tests/test_incremental_rating.py check that.

  Spark, without Delta, cannot delete inside a partition, so there every run
  overwrites the period's partition with a full derivation.
#}

{#
  Whether this run adds to rows the model holds for the period: DuckDB, the
  table exists and holds rows of the period. Otherwise (a first run, a new
  period, a full refresh, Spark) the model derives the whole period, without
  looking for held rows. A table written before rows carried a
  basis_fingerprint (an older version of the project, whose basis_hash was a
  text) is derived again for the period, and dbt adds the new columns and
  drops the retired ones (on_schema_change: sync_all_columns). Each call
  queries the table, so a model asks once (`adds_to_held`).
#}
{% macro batch_incremental() -%}
    {%- if not execute or target.type == 'spark' or should_full_refresh() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(this.database, this.schema, this.table) -%}
    {%- if relation is none or relation.type != 'table' -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {%- if 'basis_fingerprint' not in columns -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set held = run_query(
        'select count(*) from (select 1 from ' ~ this ~ ' where period_start = '
        ~ period_start_date() ~ ' limit 1) as held'
    ) -%}
    {{ return(held.columns[0].values()[0] > 0) }}
{%- endmacro %}

{#
  The fingerprint of a model's basis: its own SQL and the texts given (one
  row). It changes when any of them does.
#}
{% macro basis_fingerprint(texts) -%}
    {{ fingerprint("concat('" ~ local_md5(model.raw_code) ~ "', '|', " ~ texts | join(", '|', ") ~ ")") }}
{%- endmacro %}

{#
  A text's MD5 as a BIGINT: its first 15 hex digits (60 bits), the same
  number on DuckDB and Spark. A number, because it is written on every event:
  DuckDB wrote the MD5's 32-character text at 0.6 s per 10M rows, a BIGINT at
  about 0.1 s.
#}
{% macro fingerprint(text) -%}
    {{ return(adapter.dispatch('fingerprint', 'billing')(text)) }}
{%- endmacro %}

{% macro default__fingerprint(text) -%}
    cast(conv(substr({{ dbt.hash(text) }}, 1, 15), 16, 10) as bigint)
{%- endmacro %}

{% macro duckdb__fingerprint(text) -%}
    cast(concat('0x', substr({{ dbt.hash(text) }}, 1, 15)) as bigint)
{%- endmacro %}

{#
  The basis an upstream per-event model derived the period under, as text: a
  model derived from its rows is derived again when it changes.
#}
{% macro upstream_basis(relation) -%}
    coalesce(cast((select max(basis_fingerprint) from {{ relation }} where period_start = {{ period_start_date() }}) as {{ dbt.type_string() }}), '')
{%- endmacro %}

{#
  The values of a column as one text, sorted and joined with ';': an
  order-free fingerprint of a small table (the period's segments, the meters).
#}
{% macro sorted_text_agg(measure) -%}
    {{ return(adapter.dispatch('sorted_text_agg', 'billing')(measure)) }}
{%- endmacro %}

{% macro default__sorted_text_agg(measure) -%}
    coalesce(array_join(array_sort(collect_list({{ measure }})), ';'), '')
{%- endmacro %}

{% macro duckdb__sorted_text_agg(measure) -%}
    coalesce(string_agg({{ measure }}, ';' order by {{ measure }}), '')
{%- endmacro %}

{#
  The rows a model holds for the period under the current basis (the model's
  `basis` CTE): none on a first run or after the basis changed.
#}
{% macro held_rows() -%}
    (select * from {{ this }}
     where period_start = {{ period_start_date() }}
         and basis_fingerprint = (select basis_fingerprint from basis))
{%- endmacro %}

{#
  The newest load a model holds for the period under the current basis; -1
  when it holds none.
#}
{% macro held_through_load_id(load_id_column) -%}
    (select coalesce(max({{ load_id_column }}), -1) from {{ held_rows() }} as held)
{%- endmacro %}

{#
  The per-event models' materialization on DuckDB (on Spark they are
  incremental models that overwrite the period's partition). A first run
  creates the table. Every later run, a new period's included, writes the
  model's rows straight into the table: a temp view names them, a delete and
  then an insert read it. dbt's incremental materialization copies them into
  a temp table first, and for a model with a row per event that copy cost
  more than the rows themselves: at 10M events a month after a deployment's
  first took 20.3-20.6 s for fct_usage_events and 18.0-19.0 s for the
  matched events that way, against 8.1-8.9 and 8.9-9.8 s written straight;
  at 100M events the copy ran out of DuckDB's 6 GB memory limit.

  Deriving the whole period (batch_incremental() false: a new period), the
  delete removes what the table holds of the period: nothing, or rows
  written before rows carried a basis. Adding to held rows, it removes the
  period's rows under another basis than the current one (none when the
  basis is unchanged, all of them when it changed) and rows without a basis.
  The current basis is the model's own (its config `basis`, the template its
  `basis` CTE renders), not the new rows': after a change that leaves the
  period no rows (no event matching any meter), there are none to read it
  from, and the old rows stayed. The view then reads no row the delete
  removes (at most the held rows of the current basis), so the delete and
  the insert see the same new rows. Except where the model adds to held
  rows by key (fct_usage_daily: a row per customer, meter and day): its new
  rows are computed from the held rows they replace, which the delete
  removes, so they go into a temp table first; they are a row per day
  touched, not per event.
#}
{% materialization period_batches, adapter='duckdb' %}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set on_schema_change = incremental_validate_on_schema_change(config.get('on_schema_change'), default='ignore') -%}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {%- if existing_relation is none or existing_relation.type != 'table' or should_full_refresh() -%}
        {{ drop_relation_if_exists(existing_relation) }}
        {%- set build_sql = create_table_as(False, target_relation, compiled_code) -%}
    {%- else -%}
        {%- set new_rows = make_temp_relation(target_relation) -%}
        {%- set adds_to_held = batch_incremental() -%}
        {%- set replaced_key = config.get('unique_key') if adds_to_held else none -%}
        {%- if replaced_key -%}
            {%- do run_query(create_table_as(True, new_rows, compiled_code)) -%}
        {%- else -%}
            {%- do run_query('create temporary view ' ~ new_rows ~ ' as ' ~ compiled_code) -%}
        {%- endif -%}
        {%- set dest_columns = process_schema_changes(on_schema_change, new_rows, existing_relation) -%}
        {%- if not dest_columns -%}
            {%- set dest_columns = adapter.get_columns_in_relation(existing_relation) -%}
        {%- endif -%}
        {%- set build_sql = period_batch_sql(target_relation, new_rows, adds_to_held, replaced_key, dest_columns) -%}
    {%- endif -%}
    {% call statement('main') -%}
        {{ build_sql }}
    {%- endcall %}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do adapter.commit() %}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{% macro period_batch_sql(target, new_rows, adds_to_held, replaced_key, dest_columns) -%}
    {%- set columns = get_quoted_csv(dest_columns | map(attribute='name')) -%}
delete from {{ target }} as held
where (held.period_start is null or held.period_start = {{ period_start_date() }})
{%- if adds_to_held %}
    and (
        held.basis_fingerprint is null
        or held.basis_fingerprint <> (select basis_fingerprint from ({{ render(config.require('basis')) }}) as basis)
        {%- if replaced_key %}
        or held.{{ replaced_key }} in (select {{ replaced_key }} from {{ new_rows }})
        {%- endif %}
    )
{%- endif %};
insert into {{ target }} ({{ columns }})
select {{ columns }} from {{ new_rows }}
{%- endmacro %}
