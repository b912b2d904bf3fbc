{#- The current rows of an append-only log, as a parenthesised subquery: the rows the given versions
    wrote and, per business key, the newest (by scored_at, then log_id). The same rule as
    mrs.minority.relations.current_rows_sql, which the Python stages use. -#}
{% macro current_log_rows(log_relation, key_columns, versions) -%}
(
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by scored_at desc, log_id
            ) as log_row_recency
        from {{ log_relation }}
        where
        {%- for column, version in versions.items() %}
            {{ column }} = '{{ version }}'{% if not loop.last %} and{% endif %}
        {%- endfor %}
    ) as versioned
    where log_row_recency = 1
)
{%- endmacro %}
