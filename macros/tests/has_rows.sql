{#- Coverage: fails (with one row saying so) when the model has no rows at all - an empty feed
    (a header-only file) is reported here, not downstream as a strange model result. -#}
{% test has_rows(model) %}
select 'no rows' as problem, count(*) as row_count
from {{ model }}
having count(*) = 0
{% endtest %}
