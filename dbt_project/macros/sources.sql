{#
  Where the sources are on each engine. On DuckDB they are the loaders' tables
  in the warehouse file itself. On Spark they are the Parquet folders that
  loaders/parquet_landing.py writes under BILLING_PARQUET_DIR, one per table
  (<dir>/<schema>/<table>/): every Spark run starts by declaring each source
  of the project as an external table over its folder, so a run always reads
  the files as they are now (Spark caches a table's file list).
#}
{% macro register_parquet_sources() -%}
    {{ return(adapter.dispatch('register_parquet_sources', 'billing')()) }}
{%- endmacro %}

{% macro default__register_parquet_sources() -%}
{%- endmacro %}

{% macro spark__register_parquet_sources() -%}
    {%- if execute -%}
        {%- set root = env_var('BILLING_PARQUET_DIR', '../data/output/parquet') -%}
        {%- set sources = graph.sources.values() | sort(attribute='unique_id') -%}
        {%- for schema in sources | map(attribute='schema') | unique -%}
            {%- do run_query('create database if not exists ' ~ schema) -%}
        {%- endfor -%}
        {%- for source in sources -%}
            {%- set relation = source.schema ~ '.' ~ source.identifier -%}
            {%- do run_query('drop table if exists ' ~ relation) -%}
            {%- do run_query(
                'create table ' ~ relation ~ " using parquet location '"
                ~ root ~ '/' ~ source.schema ~ '/' ~ source.identifier ~ "'"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
