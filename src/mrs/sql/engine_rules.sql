{#- Spellings that differ between engines, shared by every rules file in this folder (one home:
    drift_rules.sql and baseline_rules.sql call them, and so do the dispatched cross-database
    macros in macros/cross_db.sql). Plain Jinja only, as in the rest of this folder: mrs.sql_rules
    renders every file of the folder as one module, and dbt reads them as macros. -#}

{#- The engine family a rule spells its SQL for: duckdb, spark or default (Postgres and the rest). -#}
{% macro engine_family(engine=none) -%}
{%- set engine = engine or (target.type if target is defined else 'duckdb') -%}
{{- 'duckdb' if engine == 'duckdb' else ('spark' if engine in ('spark', 'databricks') else 'default') -}}
{%- endmacro %}

{#- The SQL type of a 64-bit float. -#}
{% macro double_type(engine=none) -%}
{{- 'double precision' if engine_family(engine) == 'default' else 'double' -}}
{%- endmacro %}

{#- ISO day of week of a date expression: 1 = Monday ... 7 = Sunday. -#}
{% macro engine_iso_day_of_week(column, engine=none) -%}
{%- if engine_family(engine) == 'spark' -%}
extract(dayofweek_iso from {{ column }})
{%- else -%}
extract(isodow from {{ column }})
{%- endif -%}
{%- endmacro %}
