{#
  The project's tables and views on DuckDB, each replaced by one statement
  (`create or replace`) inside the model's transaction. dbt-duckdb's own
  materializations create the new relation under a temporary name, look up
  its indexes and foreign keys, rename the old one away and the new one into
  place, commit, then drop the old one: seven statements and three renames
  or drops, and dbt rebuilds its whole macro context for each of those three
  (`adapter.rename_relation`, `adapter.drop_relation`). That is dbt's Python,
  holding the GIL, not DuckDB's work: at 1M events those steps of the 35
  tables and views held the GIL for about a second of a 5.3 s build, and a
  build of the test suite's tiny warehouses is almost all such per-node work.

  DuckDB replaces a table or view atomically within its transaction, and the
  project's models use none of what the renames are for: no foreign keys,
  indexes, contracts, grants, Python models or DuckLake catalogs. A relation
  of the other kind under the model's name (a model that was a view, say) is
  dropped first, as `create or replace` cannot change a relation's kind.
  Spark keeps its adapter's materializations.
#}
{% materialization table, adapter='duckdb' %}
    {{ return(replace_relation_in_place('table')) }}
{% endmaterialization %}

{% materialization view, adapter='duckdb' %}
    {{ return(replace_relation_in_place('view')) }}
{% endmaterialization %}

{% macro replace_relation_in_place(relation_type) %}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type=relation_type) -%}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {%- if existing_relation is not none and existing_relation.type != relation_type -%}
        {{ adapter.drop_relation(existing_relation) }}
    {%- endif -%}
    {% call statement('main') -%}
        create or replace {{ relation_type }} {{ target_relation }} as (
            {{ compiled_code }}
        )
    {%- endcall %}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do persist_docs(target_relation, model) %}
    {% do adapter.commit() %}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{% endmacro %}
