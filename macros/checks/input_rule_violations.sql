{#- The rows of the given tables (keys of input_row_rules()) that break a row-level rule: table,
    rule, column, reason, offending value, the whole row as JSON and its key. What
    checked.input_quarantine holds for every table, and what the stg_<sales table>_keeps_the_input_rules
    tests (tests/dbt) return for one sales table right after its staging model. No table: no row. -#}
{% macro input_rule_violations(table_names) %}
{%- set tables = {} -%}
{%- for table_name, spec in input_row_rules().items() if table_name in table_names -%}
    {%- do tables.update({table_name: spec}) -%}
{%- endfor %}

with

{% for table_name, spec in tables.items() %}
{{ table_name }}_with_context as (

    select
        checked.*,
        {%- for name, expression in spec.context.items() %}
        {{ expression }} as {{ name }},
        {%- endfor %}
        {{ row_value('checked') }} as checked_row
    from {{ spec.relation or ref(table_name) }} as checked

),

{{ table_name }}_with_late_context as (

    select
        {%- for name, expression in (spec.late_context or {}).items() %}
        {{ expression }} as {{ name }},
        {%- endfor %}
        with_context.*
    from {{ table_name }}_with_context as with_context

),

{{ table_name }}_broken as (

    {% for rule in spec.rules %}
    select
        '{{ table_name }}' as table_name,
        '{{ rule.rule }}' as rule,
        '{{ rule.column }}' as column_name,
        '{{ rule.reason | replace("'", "''") }}' as reason,
        cast({{ rule.column }} as {{ dbt.type_string() }}) as offending_value,
        {{ row_value_as_json('checked_row') }} as offending_row,
        md5({{ row_value_as_json('checked_row') }}) as row_key
    from {{ table_name }}_with_late_context
    where coalesce({{ rule.broken }}, false)
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

{% endfor %}

final as (

    {% for table_name in tables %}
    select * from {{ table_name }}_broken
    {% if not loop.last %}union all{% endif %}
    {% else %}
    -- no table to check: no row, with the columns' types
    {%- set text = dbt.type_string() %}
    select
        cast(null as {{ text }}) as table_name,
        cast(null as {{ text }}) as rule,
        cast(null as {{ text }}) as column_name,
        cast(null as {{ text }}) as reason,
        cast(null as {{ text }}) as offending_value,
        cast(null as {{ text }}) as offending_row,
        cast(null as {{ text }}) as row_key
    where 1 = 0
    {% endfor %}

)

select * from final
{% endmacro %}
