with

source as (

    select * from {{ source('store_master', 'stores') }} as raw_rows

),

renamed as (

    select
        cast(store_id as {{ dbt.type_string() }}) as store_id,
        {{ text_attribute('retailer') }} as retailer,
        nullif(trim(cast(retailer_store_ref as {{ dbt.type_string() }})), '') as retailer_store_ref,
        cast(store_name as {{ dbt.type_string() }}) as store_name,
        {{ text_attribute('region') }} as region,
        {{ text_attribute('store_type') }} as store_type,
        cast(city as {{ dbt.type_string() }}) as city

    from source

)

select * from renamed
