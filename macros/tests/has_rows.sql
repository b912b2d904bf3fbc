{#- Coverage: fails (with one row saying so) when the model has no rows at all - an empty feed
    (a header-only file) is reported here, not downstream as a strange model result. With
    `raw_table`, the check applies only when vars.raw_tables names that table: a table left out of
    the map is absent on purpose (an own-data build without the demo feeds), not empty by mistake. -#}
{% test has_rows(model, raw_table=none) %}
{%- if raw_table is not none and not raw_table_location(raw_table) %}
select 'absent on purpose' as problem, 0 as row_count
where false
{%- else %}
select 'no rows' as problem, count(*) as row_count
from {{ model }}
having count(*) = 0
{%- endif %}
{% endtest %}
