with

source as (

    select * from {{ source('store_master', 'skus') }} as raw_rows

),

renamed as (

    select
        cast(sku_id as {{ dbt.type_string() }}) as sku_id,
        nullif(trim(cast(ean as {{ dbt.type_string() }})), '') as ean,
        cast(sku_name as {{ dbt.type_string() }}) as sku_name,
        {{ text_attribute('category') }} as category,
        cast(unit_price as {{ dbt.type_float() }}) as unit_price

    from source

)

select * from renamed
