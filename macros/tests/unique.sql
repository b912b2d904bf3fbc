{#- dbt's built-in `unique`, returning every row that shares a duplicated value, with the number of
    rows sharing it (`n_records`), so a failure quotes the rows and not only the value. The
    duplicated values are found by a group-by, as in dbt's version; only they are joined back. -#}
{% macro default__test_unique(model, column_name) %}
with duplicated as (

    select {{ column_name }} as unique_field, count(*) as n_records
    from {{ model }}
    where {{ column_name }} is not null
    group by {{ column_name }}
    having count(*) > 1

)

select duplicated.n_records, tested.*
from (select * from {{ model }}) as tested
inner join duplicated on tested.{{ column_name }} = duplicated.unique_field
{% endmacro %}
