{#-
  `loaded_at_query` of a dated raw table's source freshness: the latest date or timestamp in the
  table, read where `vars.raw_tables` points (the seed, a CSV or Parquet file or folder, a
  warehouse table; `raw_parquet_dir` applied), so `dbt source freshness` checks the data a build
  would read. A table the map does not name gives no date, which dbt reports as stale (nothing
  loaded). `loaded_at` is an SQL expression over the table's raw columns (a CSV's are text).
-#}
{% macro raw_table_loaded_at(table_name, loaded_at) %}
    {%- set location = raw_table_location(table_name) -%}
    {%- if not location -%}
        {{ return("select cast(null as " ~ dbt.type_timestamp() ~ ") as loaded_at") }}
    {%- endif -%}
    {#- a seed is loaded into `raw` under the source's own name: the source relation itself -#}
    {%- set reader = this if location == 'seed' else raw_table_reader(location) -%}
    {{ return("select max(cast(" ~ loaded_at ~ " as " ~ dbt.type_timestamp() ~ ")) as loaded_at from " ~ reader) }}
{% endmacro %}
