{#-
  Resolve a raw source table to the location `vars.raw_tables` names for it, as a relation of the
  table's declared columns (the `data_type` of each column in its `_<source>__sources.yml`).

  `raw_tables` maps a table name to one of:
    * `seed`                    the seed of the same name in `raw` (the demo world's default);
    * `path/to/file.csv`        a CSV file with a header (read as text, then cast);
    * `path/to/file.parquet`    a Parquet file;
    * `path/to/folder/`         every `*.parquet` file in a folder (a path with `/` and no suffix);
    * `schema.table`            a table or view already in the warehouse.
  A table that is not in the map (or maps to an empty string) is absent: an empty relation of the
  declared columns, never an IO error. A declared column that the file or table lacks is null, so
  optional columns (revenue, region, EAN, unit price, …) may be left out. Paths are relative to the
  directory dbt runs in. Locations of different kinds can be mixed.

  `vars.raw_parquet_dir` (as written by `mrs simulate --format parquet`) turns every `seed`
  location into `<raw_parquet_dir>/<table>.parquet`. No model changes either way.
-#}
{% macro source(source_name, table_name) %}
    {%- set relation = builtins.source(source_name, table_name) -%}
    {%- set location = raw_table_location(table_name) -%}
    {%- if location == 'seed' -%}
        {%- set reader = builtins.ref(table_name) -%}
    {%- elif location -%}
        {%- set reader = raw_table_reader(location) -%}
    {%- else -%}
        {%- set reader = none -%}
    {%- endif -%}
    {%- if not execute -%}
        {{ return(reader if reader is not none else relation) }}
    {%- endif -%}
    {{ return(declared_columns_relation(source_name, table_name, reader)) }}
{% endmacro %}


{#- Where a raw table is read from: its `raw_tables` entry (with `raw_parquet_dir` applied), or '' when absent. -#}
{% macro raw_table_location(table_name) %}
    {%- set location = (var('raw_tables', {}) or {}).get(table_name, '') or '' -%}
    {%- set parquet_dir = var('raw_parquet_dir', '') -%}
    {%- if location == 'seed' and parquet_dir -%}
        {%- set location = parquet_dir ~ '/' ~ table_name ~ '.parquet' -%}
    {%- endif -%}
    {{ return(location | trim) }}
{% endmacro %}


{#- The SQL that reads a location that is not a seed. -#}
{% macro raw_table_reader(location) %}
    {{ return(adapter.dispatch('raw_table_reader', 'mrs')(location)) }}
{% endmacro %}

{% macro duckdb__raw_table_reader(location) %}
    {%- set lowered = location | lower -%}
    {%- if lowered.endswith('.csv') or lowered.endswith('.csv.gz') -%}
        {{ return("read_csv('" ~ location ~ "', header = true, all_varchar = true)") }}
    {%- elif lowered.endswith('.parquet') -%}
        {{ return("read_parquet('" ~ location ~ "')") }}
    {%- elif '/' in location -%}
        {{ return("read_parquet('" ~ location.rstrip('/') ~ "/*.parquet')") }}
    {%- endif -%}
    {{ return(location) }}
{% endmacro %}

{% macro default__raw_table_reader(location) %}
    {#- other engines: a warehouse table only -#}
    {{ return(location) }}
{% endmacro %}


{#- A subquery with exactly the declared columns of a source table, cast to their declared types:
    read from `reader`, with nulls for declared columns the reader lacks; empty when `reader` is none. -#}
{% macro declared_columns_relation(source_name, table_name, reader) %}
    {%- set node = graph.sources.get('source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name) -%}
    {%- set columns = node.columns.values() | list if node else [] -%}
    {%- set untyped = columns | rejectattr('data_type') | map(attribute='name') | list -%}
    {%- if not columns or untyped -%}
        {{ exceptions.raise_compiler_error(
            "source " ~ source_name ~ "." ~ table_name ~ ": every column needs a data_type in its _" ~ source_name
            ~ "__sources.yml (missing for: " ~ (untyped | join(', ') if columns else 'all columns') ~ ")") }}
    {%- endif -%}
    {%- set sql -%}
        (select
            {%- for column in columns %}
            cast({{ column.name }} as {{ engine_type(column.data_type) }}) as {{ column.name }}{{ ',' if not loop.last }}
            {%- endfor %}
        from (
            {{ declared_columns_of(columns, reader) }}
        ) as raw_{{ table_name }})
    {%- endset -%}
    {{ return(sql) }}
{% endmacro %}


{#- The rows of `reader` (none: no rows) with every declared column, null where the reader lacks it
    (dispatches). DuckDB matches the columns by name in a union. -#}
{% macro declared_columns_of(columns, reader) %}
    {{ return(adapter.dispatch('declared_columns_of', 'mrs')(columns, reader)) }}
{% endmacro %}

{% macro duckdb__declared_columns_of(columns, reader) %}
    {%- set sql -%}
            select {% for column in columns %}null as {{ column.name }}{{ ', ' if not loop.last }}{% endfor %}
            where 1 = 0
            {%- if reader is not none %}
            union all by name
            select * from {{ reader }}
            {%- endif %}
    {%- endset -%}
    {{ return(sql) }}
{% endmacro %}

{#- Other engines: the reader is a warehouse relation (a seed, or `schema.table`), whose columns
    the adapter lists; names match case-insensitively, as unquoted identifiers do. -#}
{% macro default__declared_columns_of(columns, reader) %}
    {%- set found = [] -%}
    {%- if reader is not none -%}
        {%- set relation = reader -%}
        {%- if reader is string -%}
            {%- set parts = reader.split('.') -%}
            {%- set relation = adapter.get_relation(database=target.database, schema=parts[-2] if parts | length > 1 else target.schema, identifier=parts[-1]) -%}
            {%- if relation is none -%}
                {{ exceptions.raise_compiler_error("raw table " ~ reader ~ " does not exist (vars.raw_tables names a warehouse table; on " ~ adapter.type() ~ " files are not read)") }}
            {%- endif -%}
        {%- endif -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}{%- do found.append(column.name | lower) -%}{%- endfor -%}
    {%- endif -%}
    {%- set sql -%}
            select {% for column in columns %}{{ column.name if column.name | lower in found else 'null' }} as {{ column.name }}{{ ', ' if not loop.last }}{% endfor %}
            {% if reader is not none %}from {{ reader }}{% else %}where 1 = 0{% endif %}
    {%- endset -%}
    {{ return(sql) }}
{% endmacro %}
