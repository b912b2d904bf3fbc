with

source as (

    select * from {{ source('price_tracker', 'alerts') }} as raw_rows

),

renamed as (

    select
        cast(alert_id as {{ dbt.type_string() }}) as alert_id,
        cast(product_id as {{ dbt.type_string() }}) as product_id,
        cast(retailer as {{ dbt.type_string() }}) as retailer,
        cast(alert_type as {{ dbt.type_string() }}) as alert_type,
        cast(alerted_at as {{ dbt.type_timestamp() }}) as alerted_at,
        cast(alerted_at as date) as alerted_on

    from source

)

select * from renamed
