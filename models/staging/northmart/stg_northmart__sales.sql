-- northmart sends one row per store × SKU × day with a sale, in currency, with its own store codes.
with

source as (

    select * from {{ source('northmart', 'sales_northmart') }} as raw_rows

),

renamed as (

    select
        'northmart' as retailer,
        -- northmart's own store codes: unified_sales_data maps them to store ids through the store master
        cast(null as {{ dbt.type_string() }}) as store_id,
        cast(store_id as {{ dbt.type_string() }}) as retailer_store_ref,
        cast(sku_id as {{ dbt.type_string() }}) as sku_id,
        cast(null as {{ dbt.type_string() }}) as ean,
        cast(date as date) as sales_date,
        cast(units as {{ dbt.type_bigint() }}) as units_sold,
        cast(net_sales as {{ dbt.type_float() }}) as revenue

    from source

)

select * from renamed
