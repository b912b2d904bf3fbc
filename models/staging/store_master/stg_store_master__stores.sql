with

source as (

    select * from {{ source('store_master', 'stores') }}

),

renamed as (

    select
        cast(store_id as {{ dbt.type_string() }}) as store_id,
        cast(retailer as {{ dbt.type_string() }}) as retailer,
        cast(retailer_store_ref as {{ dbt.type_string() }}) as retailer_store_ref,
        cast(store_name as {{ dbt.type_string() }}) as store_name,
        cast(region as {{ dbt.type_string() }}) as region,
        cast(store_type as {{ dbt.type_string() }}) as store_type,
        cast(city as {{ dbt.type_string() }}) as city

    from source

)

select * from renamed
