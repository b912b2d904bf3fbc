{#- The sales feed contract: the columns (and types) every sales staging model returns, in order.
    `unified_sales_data` collates `stg_canonical__sales` and each model of `vars.sales_feeds` through
    it; the `sales_feed_contract` test checks each of them against it. A row names its store either
    by `store_id` or by (`retailer`, `retailer_store_ref`) of the store master, and its SKU either by
    `sku_id` or by the `ean` of the SKU master. -#}
{% macro sales_feed_columns() %}
    {{ return([
        {'name': 'retailer', 'type': dbt.type_string()},
        {'name': 'store_id', 'type': dbt.type_string()},
        {'name': 'retailer_store_ref', 'type': dbt.type_string()},
        {'name': 'sku_id', 'type': dbt.type_string()},
        {'name': 'ean', 'type': dbt.type_string()},
        {'name': 'sales_date', 'type': 'date'},
        {'name': 'units_sold', 'type': dbt.type_bigint()},
        {'name': 'revenue', 'type': dbt.type_float()},
    ]) }}
{% endmacro %}

{#- Every sales staging model: `stg_canonical__sales` (the canonical table) and `vars.sales_feeds`. -#}
{% macro sales_feed_models() %}
    {{ return(['stg_canonical__sales'] + (var('sales_feeds', []) or [])) }}
{% endmacro %}

{#- One sales feed's rows in the contract's columns, cast to the contract's types: the rows the
    checked input layer lets through (checked_rows, macros/checks). -#}
{% macro sales_feed_select(feed) %}
    select
        {%- for column in sales_feed_columns() %}
        cast({{ column.name }} as {{ column.type }}) as {{ column.name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ checked_rows(feed) }} as feed_rows
{% endmacro %}

{#- The sales grain (`vars.sales_grain`): `day` or `week`; anything else fails naming the var. -#}
{% macro sales_grain() %}
    {%- set grain = (var('sales_grain', 'day') or 'day') | string | trim | lower -%}
    {%- if grain not in ('day', 'week') -%}
        {{ exceptions.raise_compiler_error("vars.sales_grain must be 'day' or 'week', got '" ~ var('sales_grain') ~ "'") }}
    {%- endif -%}
    {{ return(grain) }}
{% endmacro %}

{#- Days in one sales period: 1 at daily grain, 7 at weekly grain. -#}
{% macro period_days() %}
    {{ return(7 if sales_grain() == 'week' else 1) }}
{% endmacro %}

{#- Periods in one season: 7 days (a week) at daily grain, 52 weeks (a year) at weekly grain. -#}
{% macro season_periods() %}
    {{ return(52 if sales_grain() == 'week' else 7) }}
{% endmacro %}

{#- The period a date falls in, as the period's date: the date itself at daily grain; at weekly
    grain the date of its 7-day period counted from `first_day` (so weekly data keeps its own
    weekday, e.g. week-ending Fridays). -#}
{% macro period_date(date_expression, first_day) %}
    {%- if sales_grain() == 'week' -%}
        {{ add_days('7 * floor(' ~ dbt.datediff(first_day, date_expression, 'day') ~ ' / 7)', first_day) }}
    {%- else -%}
        {{ date_expression }}
    {%- endif -%}
{% endmacro %}
