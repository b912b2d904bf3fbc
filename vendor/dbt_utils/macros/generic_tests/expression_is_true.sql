{#- dbt_utils.expression_is_true (same name and arguments): rows for which the expression is false;
    with a column, the expression is applied to it (`column_name ~ ' ' ~ expression`). -#}
{% test expression_is_true(model, expression, column_name=none) %}
select *
from {{ model }}
{%- if column_name is none %}
where not ({{ expression }})
{%- else %}
where not ({{ column_name }} {{ expression }})
{%- endif %}
{% endtest %}
