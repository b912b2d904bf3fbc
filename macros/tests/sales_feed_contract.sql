{#- A sales staging model keeps the sales feed contract (macro sales_feed_columns): it has every
    contract column, and each row names a sales day, its store (store_id, or retailer +
    retailer_store_ref), its SKU (sku_id, or ean) and non-negative units and revenue. Returns the
    rows that break it, with the rule they break. -#}
{% test sales_feed_contract(model) %}
{#- the column check reads the built relation, so only when the test runs (not at compile / docs generate) -#}
{%- if execute and flags.WHICH in ['build', 'test'] -%}
    {%- set present = adapter.get_columns_in_relation(model) | map(attribute='name') | map('lower') | list -%}
    {%- set missing = sales_feed_columns() | map(attribute='name') | reject('in', present) | list -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error(
            model.identifier ~ " does not keep the sales feed contract (macros/sales_feeds.sql): no column(s) "
            ~ missing | join(', ') ~ "; it has " ~ present | join(', ')) }}
    {%- endif -%}
{%- endif %}
select * from (
    select
        case
            when sales_date is null then 'sales_date is null'
            when store_id is null and (retailer is null or retailer_store_ref is null)
                then 'no store: neither store_id nor retailer + retailer_store_ref'
            when sku_id is null and ean is null then 'no SKU: neither sku_id nor ean'
            when units_sold is null then 'units_sold is null'
            when units_sold < 0 then 'units_sold is negative'
            when revenue < 0 then 'revenue is negative'
        end as broken_rule,
        *
    from {{ model }}
) as checked
where broken_rule is not null
{% endtest %}
