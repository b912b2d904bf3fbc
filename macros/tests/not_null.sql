{#- dbt's built-in `not_null`, returning the whole offending rows (not only the null column), so a
    failure can quote them (see report_test_failures). Wins over dbt's own through the project's
    dispatch search order (dbt_project.yml `dispatch`). -#}
{% macro default__test_not_null(model, column_name) %}
select *
from {{ model }}
where {{ column_name }} is null
{% endmacro %}
