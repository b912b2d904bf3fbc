{#-
  Resolve a raw source table.

  * Default: the seed of the same name, loaded into the `raw` schema. Returning `ref()` to it
    (the relation `builtins.source` names: seeds are named after their source table) makes dbt build the seeds before staging.
  * With `--vars '{raw_parquet_dir: DIR}'`: `DIR/<table>.parquet`, as written by
    `mrs simulate --format parquet`, read in place by DuckDB. No model changes.
-#}
{% macro source(source_name, table_name) %}
    {%- set relation = builtins.source(source_name, table_name) -%}
    {%- set parquet_dir = var('raw_parquet_dir', '') -%}
    {%- if parquet_dir -%}
        {{ return("read_parquet('" ~ parquet_dir ~ "/" ~ table_name ~ ".parquet')") }}
    {%- endif -%}
    {{ return(builtins.ref(table_name)) }}
{% endmacro %}
