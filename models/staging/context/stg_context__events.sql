with

source as (

    select * from {{ source('context', 'context_events') }} as raw_rows

),

renamed as (

    select
        cast(event_id as {{ dbt.type_string() }}) as event_id,
        cast(event_type as {{ dbt.type_string() }}) as event_type,
        cast(description as {{ dbt.type_string() }}) as description,
        -- empty region means every region; store_id is set only for store-local events
        nullif(trim(cast(region as {{ dbt.type_string() }})), '') as region,
        nullif(trim(cast(store_id as {{ dbt.type_string() }})), '') as store_id,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,
        cast(severity as {{ dbt.type_float() }}) as severity

    from source

)

select * from renamed
