{#- dbt's built-in `accepted_values` (same arguments), returning the offending rows themselves
    rather than the distinct values with a count, so a failure quotes the rows. Nulls pass, as in
    dbt's version. -#}
{% macro default__test_accepted_values(model, column_name, values, quote=True) %}
select *
from {{ model }}
where {{ column_name }} not in (
    {% for value in values -%}
        {% if quote -%}
        '{{ value }}'
        {%- else -%}
        {{ value }}
        {%- endif -%}
        {%- if not loop.last -%},{%- endif %}
    {%- endfor %}
)
{% endmacro %}
