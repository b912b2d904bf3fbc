{#- dbt's built-in `relationships` (same arguments), returning the whole child rows whose value has
    no parent, so a failure quotes them. -#}
{% macro default__test_relationships(model, column_name, to, field) %}
with parent as (

    select distinct {{ field }} as to_field
    from {{ to }}

)

select child.*
from (select * from {{ model }}) as child
left join parent on child.{{ column_name }} = parent.to_field
where child.{{ column_name }} is not null
    and parent.to_field is null
{% endmacro %}
