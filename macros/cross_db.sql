{#- Portable helpers for what dbt's cross-database macros do not cover. Each dispatches, so an
    adapter-specific version (duckdb__, spark__, snowflake__) can be added beside the default. -#}

{#- A date from 'YYYYMMDD' text. -#}
{% macro parse_yyyymmdd(column) -%}
    {{ return(adapter.dispatch('parse_yyyymmdd', 'mrs')(column)) }}
{%- endmacro %}
{% macro default__parse_yyyymmdd(column) -%}
    cast(substr({{ column }}, 1, 4) || '-' || substr({{ column }}, 5, 2) || '-' || substr({{ column }}, 7, 2) as date)
{%- endmacro %}
{#- DuckDB: strict - null unless the text is exactly a valid YYYYMMDD calendar day (never a cast
    error on e.g. `2025-13-45`; the checked layer names such rows, macros/checks/input_rules.sql). -#}
{% macro duckdb__parse_yyyymmdd(column) -%}
    cast(try_strptime({{ column }}, '%Y%m%d') as date)
{%- endmacro %}

{#- ISO day of week: 1 = Monday … 7 = Sunday. -#}
{% macro iso_day_of_week(column) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'mrs')(column)) }}
{%- endmacro %}
{% macro default__iso_day_of_week(column) -%}
    {{ engine_iso_day_of_week(column, 'default') }}
{%- endmacro %}
{% macro spark__iso_day_of_week(column) -%}
    {{ engine_iso_day_of_week(column, 'spark') }}
{%- endmacro %}
{% macro snowflake__iso_day_of_week(column) -%}
    dayofweekiso({{ column }})
{%- endmacro %}

{#- Median as a window aggregate. -#}
{% macro window_median(column) -%}
    {{ return(adapter.dispatch('window_median', 'mrs')(column)) }}
{%- endmacro %}
{% macro default__window_median(column) -%}
    median({{ column }})
{%- endmacro %}
{#- Spark: percentile (exact, interpolated like median/percentile_cont; a window aggregate too),
    not percentile_approx, whose medians are values of the frame and differ from DuckDB's. -#}
{% macro spark__window_median(column) -%}
    percentile(cast({{ column }} as double), 0.5)
{%- endmacro %}
{#- Postgres's median (percentile_cont) is an ordered-set aggregate, which cannot take an OVER
    clause; mrs_median is a plain aggregate with the same result (the interpolated median of the
    non-null values, null when there are none), created by engine_functions() at run start. -#}
{% macro postgres__window_median(column) -%}
    {{ target.schema }}.mrs_median(cast({{ column }} as double precision))
{%- endmacro %}

{#- A float rounded to `digits` decimals, as a float (dispatches). Postgres rounds only numeric to a
    number of decimals, so the value goes through numeric there. -#}
{% macro round_float(expression, digits) -%}
    {{ return(adapter.dispatch('round_float', 'mrs')(expression, digits)) }}
{%- endmacro %}
{% macro default__round_float(expression, digits) -%}
    round({{ expression }}, {{ digits }})
{%- endmacro %}
{% macro postgres__round_float(expression, digits) -%}
    cast(round(cast({{ expression }} as numeric), {{ digits }}) as double precision)
{%- endmacro %}

{#- on-run-start: the functions an engine lacks that the macros above call (dispatches; nothing on
    DuckDB). Idempotent (create or replace). -#}
{% macro engine_functions() -%}
    {{ return(adapter.dispatch('engine_functions', 'mrs')()) }}
{%- endmacro %}
{% macro default__engine_functions() -%}
{%- endmacro %}
{% macro postgres__engine_functions() -%}
    create schema if not exists {{ target.schema }};
    create or replace function {{ target.schema }}.mrs_median_final(vals double precision[])
        returns double precision language sql immutable parallel safe
        as 'select percentile_cont(0.5) within group (order by v) from unnest(vals) as v';
    create or replace aggregate {{ target.schema }}.mrs_median(double precision) (
        sfunc = array_append, stype = double precision[], finalfunc = {{ target.schema }}.mrs_median_final, initcond = '{}'
    )
{%- endmacro %}

{#- A declared column type (a source's `data_type`, written in DuckDB's names) in this engine's
    spelling (dispatches; DuckDB and the default keep it). -#}
{% macro engine_type(data_type) -%}
    {{ return(adapter.dispatch('engine_type', 'mrs')(data_type)) }}
{%- endmacro %}
{% macro default__engine_type(data_type) -%}
    {{ return(data_type) }}
{%- endmacro %}
{% macro postgres__engine_type(data_type) -%}
    {%- set names = {'double': 'double precision', 'float': 'double precision', 'hugeint': 'numeric', 'string': 'text', 'tinyint': 'smallint'} -%}
    {{ return(names.get(data_type | lower | trim, data_type)) }}
{%- endmacro %}

{#- Spark: no `varchar` without a length, no `double precision`; arrays as array<...>. -#}
{% macro spark__engine_type(data_type) -%}
    {%- set t = data_type | lower | trim -%}
    {%- if t.endswith('[]') -%}
        {{ return('array<' ~ spark__engine_type(t[:-2]) ~ '>') }}
    {%- endif -%}
    {%- set names = {'varchar': 'string', 'text': 'string', 'double precision': 'double', 'float': 'double', 'hugeint': 'decimal(38, 0)'} -%}
    {{ return(names.get(t, data_type)) }}
{%- endmacro %}

{#- Seeds on Spark: their column_types (dbt_project.yml, in names DuckDB and Postgres read) in
    Spark's spelling (engine_type), then dbt-spark's own seed table. -#}
{% macro spark__create_csv_table(model, agate_table) -%}
    {%- set types = {} -%}
    {%- for name, data_type in model['config'].get('column_types', {}).items() -%}
        {%- do types.update({name: engine_type(data_type)}) -%}
    {%- endfor -%}
    {%- do model['config'].update({'column_types': types}) -%}
    {{ return(dbt.spark__create_csv_table(model, agate_table)) }}
{%- endmacro %}

{#- ... and their rows as literals: dbt-spark's session method binds every value as '<value>'
    without escaping (a quote in a narrative breaks the insert; a null string loads as 'None').
    Spark string literals take backslash escapes. -#}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set types = [] -%}
    {%- for col_name in agate_table.column_names -%}
        {%- do types.append(engine_type(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)))) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    {%- if value is none -%}
                        cast(null as {{ types[loop.index0] }})
                    {%- else -%}
                        cast('{{ (value | string).replace("\\", "\\\\").replace("'", "\\'") }}' as {{ types[loop.index0] }})
                    {%- endif -%}
                    {%- if not loop.last %},{% endif -%}
                {%- endfor -%}){%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first %}{% do statements.append(sql) %}{% endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{%- endmacro %}

{#- A date, as a date, n days before/after a date expression. -#}
{% macro add_days(days, date_expression) -%}
    cast({{ dbt.dateadd('day', days, date_expression) }} as date)
{%- endmacro %}

{#- The values of a window frame, in frame order, as an array. -#}
{% macro window_list(column) -%}
    {{ return(adapter.dispatch('window_list', 'mrs')(column)) }}
{%- endmacro %}
{% macro default__window_list(column) -%}
    array_agg({{ column }})
{%- endmacro %}
{% macro spark__window_list(column) -%}
    collect_list({{ column }})
{%- endmacro %}

{#- dbt.type_float() renders `float`, which DuckDB reads as a 32-bit REAL (119.99 → 119.98999786).
    Prices and rates need a 64-bit double. Found through the dispatch search order in dbt_project.yml. -#}
{% macro duckdb__type_float() -%}
    double
{%- endmacro %}
{#- Spark's `float` is 32-bit too. -#}
{% macro spark__type_float() -%}
    double
{%- endmacro %}

{#- The sum and mean of a money column, summed exactly as a decimal so the result does not depend on the
    order a parallel aggregation adds the values in (float sums do, in their last bits). -#}
{% macro exact_sum(column) -%}
    cast(sum(cast({{ column }} as {{ dbt.type_numeric() }})) as {{ dbt.type_float() }})
{%- endmacro %}
{% macro exact_mean(column) -%}
    {{ exact_sum(column) }} / nullif(count({{ column }}), 0)
{%- endmacro %}

{#- One row per period (`sales_date`) from a first to a last day, both SQL date expressions, in
    steps of `step_days` days (1: days; 7: weeks); no rows when either is null. Pure SQL, so nothing
    is queried at compile time (dbt.date_spine counts its intervals with a query, which fails on a
    fresh warehouse). -#}
{% macro period_spine(first_day, last_day, step_days=1) -%}
    {{ return(adapter.dispatch('period_spine', 'mrs')(first_day, last_day, step_days)) }}
{%- endmacro %}
{% macro default__period_spine(first_day, last_day, step_days=1) -%}
    select cast(generate_series(cast({{ first_day }} as timestamp), cast({{ last_day }} as timestamp), interval '{{ step_days }} day') as date) as sales_date
{%- endmacro %}
{% macro duckdb__period_spine(first_day, last_day, step_days=1) -%}
    select cast(unnest(generate_series(cast({{ first_day }} as timestamp), cast({{ last_day }} as timestamp), interval '{{ step_days }} day')) as date) as sales_date
{%- endmacro %}

{#- Spark: sequence() of dates in steps of an interval, one row per element (none when a bound is null). -#}
{% macro spark__period_spine(first_day, last_day, step_days=1) -%}
    select explode(sequence(cast({{ first_day }} as date), cast({{ last_day }} as date), interval {{ step_days }} day)) as sales_date
{%- endmacro %}

{#- A contract's data types (models' YAML, in names DuckDB and Postgres read) in Spark's spelling
    (engine_type) for the contract check's typed empty row; the check then compares Spark's types. -#}
{% macro spark__get_empty_schema_sql(columns) -%}
    {%- set typed = {} -%}
    {%- for name, column in columns.items() -%}
        {%- set column = column.copy() -%}
        {%- if column.get('data_type') -%}{%- do column.update({'data_type': engine_type(column['data_type'])}) -%}{%- endif -%}
        {%- do typed.update({name: column}) -%}
    {%- endfor -%}
    {{ return(dbt.default__get_empty_schema_sql(typed)) }}
{%- endmacro %}

{#- The values of a group as an array sorted by value (evidence ids, in id order). -#}
{% macro sorted_array_agg(column) -%}
    {{ return(adapter.dispatch('sorted_array_agg', 'mrs')(column)) }}
{%- endmacro %}
{% macro default__sorted_array_agg(column) -%}
    array_agg({{ column }} order by {{ column }})
{%- endmacro %}
{% macro spark__sorted_array_agg(column) -%}
    array_sort(collect_list({{ column }}))
{%- endmacro %}

{#- A date as 'YYYYMMDD' text (the inverse of parse_yyyymmdd). -#}
{% macro format_yyyymmdd(column) -%}
    {{ return(adapter.dispatch('format_yyyymmdd', 'mrs')(column)) }}
{%- endmacro %}
{% macro default__format_yyyymmdd(column) -%}
    to_char({{ column }}, 'YYYYMMDD')
{%- endmacro %}
{% macro duckdb__format_yyyymmdd(column) -%}
    strftime({{ column }}, '%Y%m%d')
{%- endmacro %}
{% macro spark__format_yyyymmdd(column) -%}
    date_format({{ column }}, 'yyyyMMdd')
{%- endmacro %}

{#- The values of a group as an array ordered by another expression, optionally only the rows where
    `where` holds (an aggregate FILTER); null when no row qualifies. -#}
{% macro ordered_array_agg(column, order_by, where=none) -%}
    {{ return(adapter.dispatch('ordered_array_agg', 'mrs')(column, order_by, where)) }}
{%- endmacro %}
{% macro default__ordered_array_agg(column, order_by, where) -%}
    array_agg({{ column }} order by {{ order_by }}){% if where %} filter (where {{ where }}){% endif %}
{%- endmacro %}
{% macro spark__ordered_array_agg(column, order_by, where) -%}
    transform(
        array_sort(collect_list({% if where %}case when {{ where }} then {% endif %}struct({{ order_by }} as k, {{ column }} as v){% if where %} end{% endif %})),
        x -> x.v
    )
{%- endmacro %}
