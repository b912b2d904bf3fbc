with

source as (

    select * from {{ source('price_tracker', 'prices') }} as raw_rows

),

renamed as (

    select
        cast(product_id as {{ dbt.type_string() }}) as product_id,
        cast(retailer as {{ dbt.type_string() }}) as retailer,
        cast(observed_on as date) as observed_on,
        cast(price as {{ dbt.type_float() }}) as price

    from source

)

select * from renamed
