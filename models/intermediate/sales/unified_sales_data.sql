-- One row per store × SKU × day over the whole sales calendar, collated from every retailer's
-- feed, mapped onto canonical store and SKU ids, and zero-filled for days without a sale.
{% set feed_days %}
    (select sales_date from {{ checked_rows('stg_northmart__sales') }} as northmart
     union all
     select sales_date from {{ checked_rows('stg_coastco__sales') }} as coastco) as feed_days
{% endset %}
{% set first_sales_day = '(select min(sales_date) from ' ~ feed_days ~ ')' %}
{% set last_sales_day = '(select max(sales_date) from ' ~ feed_days ~ ')' %}

with

stores as (

    select * from {{ ref('stg_store_master__stores') }}

),

skus as (

    select * from {{ ref('stg_store_master__skus') }}

),

northmart_sales as (

    select
        stores.store_id,
        northmart.sku_id,
        northmart.sales_date,
        northmart.units_sold,
        northmart.revenue
    from {{ checked_rows('stg_northmart__sales') }} as northmart
    inner join stores
        on stores.retailer = northmart.retailer
        and stores.retailer_store_ref = northmart.retailer_store_ref

),

coastco_sales as (

    select
        stores.store_id,
        skus.sku_id,
        coastco.sales_date,
        coastco.units_sold,
        coastco.revenue
    from {{ checked_rows('stg_coastco__sales') }} as coastco
    inner join stores
        on stores.retailer = coastco.retailer
        and stores.retailer_store_ref = coastco.retailer_store_ref
    inner join skus
        on skus.ean = coastco.ean

),

feed_sales as (

    select * from northmart_sales
    union all
    select * from coastco_sales

),

daily_sales as (

    select
        store_id,
        sku_id,
        sales_date,
        sum(units_sold) as units_sold,
        {{ exact_sum('revenue') }} as revenue
    from feed_sales
    group by store_id, sku_id, sales_date

),

calendar as (

    {{ dbt.date_spine('day', first_sales_day, add_days(1, last_sales_day)) }}

),

store_sku_days as (

    select
        stores.store_id,
        stores.retailer,
        skus.sku_id,
        cast(calendar.date_day as date) as sales_date
    from stores
    cross join skus
    cross join calendar

),

final as (

    select
        store_sku_days.store_id,
        store_sku_days.sku_id,
        store_sku_days.sales_date,
        store_sku_days.retailer,
        coalesce(daily_sales.units_sold, 0) as units_sold,
        coalesce(daily_sales.revenue, 0) as revenue,
        daily_sales.units_sold is null as is_zero_filled
    from store_sku_days
    left join daily_sales
        on daily_sales.store_id = store_sku_days.store_id
        and daily_sales.sku_id = store_sku_days.sku_id
        and daily_sales.sales_date = store_sku_days.sales_date

)

select * from final
