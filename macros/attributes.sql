{#- A free-text master attribute (retailer, region, store type, category, …): trimmed, and
    'unknown' when the master lacks it (no column, an empty value, or no master row). -#}
{% macro text_attribute(expression) -%}
    coalesce(nullif(trim(cast({{ expression }} as {{ dbt.type_string() }})), ''), 'unknown')
{%- endmacro %}
