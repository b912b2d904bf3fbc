-- Every row of a quarantinable raw table (the sales feeds) that breaks a row-level rule of
-- input_row_rules() (macros/checks/input_rules.sql): the table, the rule, the column, the reason,
-- the offending value and the whole row. Strict mode (default): its test input_rules_hold fails
-- the build on any row here, quoting them. Quarantine mode (vars.bad_input_mode: quarantine): the
-- rows stay here, the test warns and counts them, and checked_rows() leaves them out downstream.
{%- set tables = input_row_rules() %}

with

{% for table_name, spec in tables.items() %}
{{ table_name }}_with_context as (

    select
        checked.*,
        {%- for name, expression in spec.context.items() %}
        {{ expression }} as {{ name }},
        {%- endfor %}
        md5({{ row_as_json('checked') }}) as row_key,
        {{ row_as_json('checked') }} as offending_row
    from {{ spec.relation or ref(table_name) }} as checked

),

{{ table_name }}_broken as (

    {% for rule in spec.rules %}
    select
        '{{ table_name }}' as table_name,
        '{{ rule.rule }}' as rule,
        '{{ rule.column }}' as column_name,
        '{{ rule.reason | replace("'", "''") }}' as reason,
        cast({{ rule.column }} as {{ dbt.type_string() }}) as offending_value,
        offending_row,
        row_key
    from {{ table_name }}_with_context
    where coalesce({{ rule.broken }}, false)
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

{% endfor %}

final as (

    {% for table_name in tables %}
    select * from {{ table_name }}_broken
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from final
