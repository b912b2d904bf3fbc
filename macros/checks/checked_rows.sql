{#- The rows of a staging model that downstream models may read: in strict mode all of them (a row
    breaking a rule has already failed the build at input_quarantine's test, which every reader
    depends on through this macro); in quarantine mode those not in input_quarantine, matched by
    the row's key (the md5 of the whole staging row). A parenthesised subquery.
    Usage: `from {{ checked_rows('stg_northmart__sales') }} as northmart`. -#}
{% macro checked_rows(model_name) -%}
    {%- if model_name not in input_row_rules() -%}
        {{ exceptions.raise_compiler_error("checked_rows: " ~ model_name ~ " has no rules in input_row_rules() (macros/checks/input_rules.sql)") }}
    {%- endif -%}
    {%- set quarantine = ref('input_quarantine') -%}
    {%- if bad_input_mode() == 'quarantine' -%}
(
    select checked.*
    from {{ ref(model_name) }} as checked
    where md5({{ row_as_json('checked') }}) not in (
        select row_key from {{ quarantine }} where table_name = '{{ model_name }}'
    )
)
    {%- else -%}
(
    -- strict: every row ({{ quarantine }} is empty, or its test failed the build)
    select * from {{ ref(model_name) }}
)
    {%- endif -%}
{%- endmacro %}
