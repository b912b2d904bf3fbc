{#- Use the folder's schema name as it is (raw, staging, intermediate, ml, marts) rather than
    dbt's default <target_schema>_<custom_schema>, so analysts query `marts.product_insights`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
