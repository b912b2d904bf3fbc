{#- Key combinations that occur more than once (dbt_utils' test, same name and arguments): every row
    sharing a duplicated key, with the number of rows sharing it (`occurrences`), so a failure quotes
    the rows and not only the key. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
with duplicated as (

    select {{ combination_of_columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1

)

select duplicated.occurrences, tested.*
from (select * from {{ model }}) as tested
inner join duplicated
    on {% for column in combination_of_columns -%}
    tested.{{ column }} is not distinct from duplicated.{{ column }}{% if not loop.last %} and {% endif %}
    {%- endfor %}
{% endtest %}
