{#- Rows whose number is NaN or infinite (nulls pass: pair with not_null). `price <= 0` is false for
    NaN, so a range test alone lets NaN through. -#}
{% test finite_number(model, column_name) %}
select *
from {{ model }}
where {{ column_name }} is not null
    and not {{ is_finite(column_name) }}
{% endtest %}
