{#- dbt_utils.unique_combination_of_columns (same name and arguments): key combinations that occur
    more than once. Unlike dbt_utils it returns every row sharing a duplicated key, with the number
    of rows sharing it (`occurrences`), so a failure quotes the rows and not only the key. -#}
{% test unique_combination_of_columns(model, combination_of_columns, quote_columns=false) %}
{%- set columns = [] -%}
{%- for column in combination_of_columns -%}
    {%- do columns.append(adapter.quote(column) if quote_columns else column) -%}
{%- endfor -%}
with duplicated as (

    select {{ columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1

)

select duplicated.occurrences, tested.*
from (select * from {{ model }}) as tested
inner join duplicated
    on {% for column in columns -%}
    tested.{{ column }} is not distinct from duplicated.{{ column }}{% if not loop.last %} and {% endif %}
    {%- endfor %}
{% endtest %}
