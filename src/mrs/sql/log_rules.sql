{#- The rules of the append-only logs, one home for SQL and Python: dbt reads this file as macros
    (macro-paths in dbt_project.yml); mrs.sql_rules renders the same macros with plain Jinja for the
    Python stages. Plain Jinja only here: no dbt context beyond the `dbt is defined` test below. -#}

{#- The stable md5 over SQL expressions that log ids and input fingerprints are: each value cast to
    text, a null as the token \N, fields joined by '|' (mrs.lifecycle.schemas.stable_id hashes the
    same text in Python). -#}
{% macro row_hash(expressions) -%}
    {%- set string_type = dbt.type_string() if dbt is defined else 'varchar' -%}
    md5(concat_ws('|', {% for expression in expressions -%}
        coalesce(cast({{ expression }} as {{ string_type }}), '\N'){{ ", " if not loop.last }}
    {%- endfor %}))
{%- endmacro %}

{#- The current rows of an append-only log, as a parenthesised subquery with the log's own columns:
    the rows the given versions wrote and, per business key, the newest (by scored_at, then the
    smaller log_id). `log_relation` is a relation or a subquery with its alias (`(...) as name`).
    One rule, two spellings: on DuckDB a row_number window whose helper column `* exclude` drops
    (a third faster there); elsewhere, portable SQL, "no newer row of the same key exists". The
    engine is dbt's target, or `engine` when rendered outside dbt (mrs.sql_rules). -#}
{% macro current_log_rows(log_relation, key_columns, versions, engine=none) -%}
{%- set engine = engine or (target.type if target is defined else 'duckdb') -%}
{%- set version_filter -%}
    {%- for column, version in versions.items() -%}
    {{ "{alias}." }}{{ column }} = '{{ version | string | replace("'", "''") }}'{{ " and " if not loop.last }}
    {%- else -%} true
    {%- endfor -%}
{%- endset -%}
{%- if engine == 'duckdb' -%}
(
    select * exclude (log_row_recency)
    from (
        select
            *,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by scored_at desc, log_id
            ) as log_row_recency
        from (select * from {{ log_relation }}) as current_row
        where {{ version_filter | replace("{alias}", "current_row") }}
    ) as versioned
    where log_row_recency = 1
)
{%- else -%}
(
    select current_row.*
    from (select * from {{ log_relation }}) as current_row
    where {{ version_filter | replace("{alias}", "current_row") }}
        and not exists (
            select 1
            from (select * from {{ log_relation }}) as newer_row
            where {{ version_filter | replace("{alias}", "newer_row") }}
            {%- for column in key_columns %}
                and newer_row.{{ column }} = current_row.{{ column }}
            {%- endfor %}
                and (
                    newer_row.scored_at > current_row.scored_at
                    or (newer_row.scored_at = current_row.scored_at and newer_row.log_id < current_row.log_id)
                )
        )
)
{%- endif -%}
{%- endmacro %}
