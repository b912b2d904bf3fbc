with

source as (

    select * from {{ source('narratives', 'master_narratives') }} as raw_rows

),

renamed as (

    select
        cast(narrative_id as {{ dbt.type_string() }}) as narrative_id,
        cast(title as {{ dbt.type_string() }}) as title,
        cast(window_start as date) as window_start,
        cast(window_end as date) as window_end,
        cast(shape as {{ dbt.type_string() }}) as shape,
        cast(direction as {{ dbt.type_string() }}) as direction,
        cast(magnitude as {{ dbt.type_float() }}) as magnitude,
        cast(cluster_name as {{ dbt.type_string() }}) as cluster_name,
        cast(cause_type as {{ dbt.type_string() }}) as cause_type,
        cast(cause as {{ dbt.type_string() }}) as cause,
        cast(confidence as {{ dbt.type_float() }}) as confidence

    from source

)

select * from renamed
