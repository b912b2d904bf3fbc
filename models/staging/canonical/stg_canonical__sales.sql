-- Sales already in the canonical contract: canonical store and SKU ids, so no feed references.
with

source as (

    select * from {{ source('canonical', 'sales') }} as raw_rows

),

renamed as (

    select
        cast(null as {{ dbt.type_string() }}) as retailer,
        cast(store_id as {{ dbt.type_string() }}) as store_id,
        cast(null as {{ dbt.type_string() }}) as retailer_store_ref,
        cast(sku_id as {{ dbt.type_string() }}) as sku_id,
        cast(null as {{ dbt.type_string() }}) as ean,
        cast(sales_date as date) as sales_date,
        cast(units as {{ dbt.type_bigint() }}) as units_sold,
        cast(coalesce(revenue, 0) as {{ dbt.type_float() }}) as revenue

    from source

)

select * from renamed
