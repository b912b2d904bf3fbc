with

source as (

    select * from {{ source('price_tracker', 'products') }} as raw_rows

),

renamed as (

    select
        cast(product_id as {{ dbt.type_string() }}) as product_id,
        cast(product_name as {{ dbt.type_string() }}) as product_name,
        cast(category as {{ dbt.type_string() }}) as category,
        cast(msrp as {{ dbt.type_float() }}) as msrp,
        cast(release_date as date) as release_date,
        cast(popularity_score as {{ dbt.type_int() }}) as popularity_score

    from source

)

select * from renamed
