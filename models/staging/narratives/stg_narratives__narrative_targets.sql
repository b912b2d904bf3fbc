with

source as (

    select * from {{ source('narratives', 'narrative_targets') }} as raw_rows

),

renamed as (

    select
        cast(narrative_id as {{ dbt.type_string() }}) as narrative_id,
        cast(store_id as {{ dbt.type_string() }}) as store_id,
        cast(sku_id as {{ dbt.type_string() }}) as sku_id

    from source

)

select * from renamed
