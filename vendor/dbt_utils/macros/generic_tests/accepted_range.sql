{#- dbt_utils.accepted_range (same name and arguments): rows whose value lies outside
    [min_value, max_value]. One extension: an empty string is no bound, so a bound can follow an
    optional var. Values may be SQL expressions, e.g. "cast('{{ var(\"sales_start_date\") }}' as date)". -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
select {{ column_name }} as out_of_range_value, *
from {{ model }}
where {{ column_name }} is not null
  and (
    {%- if min_value is not none and min_value | string | trim != '' %}
        {{ column_name }} {{ '<' if inclusive else '<=' }} {{ min_value }}
    {%- else %} false {%- endif %}
    {%- if max_value is not none and max_value | string | trim != '' %}
        or {{ column_name }} {{ '>' if inclusive else '>=' }} {{ max_value }}
    {%- endif %}
  )
{% endtest %}
