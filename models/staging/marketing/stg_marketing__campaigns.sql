with

source as (

    select * from {{ source('marketing', 'campaigns') }} as raw_rows

),

renamed as (

    select
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(campaign_name as {{ dbt.type_string() }}) as campaign_name,
        cast(retailer as {{ dbt.type_string() }}) as retailer,
        -- empty means "all": all the retailer's regions, all categories, every SKU of the category
        nullif(trim(cast(region as {{ dbt.type_string() }})), '') as region,
        nullif(trim(cast(category as {{ dbt.type_string() }})), '') as category,
        nullif(trim(cast(sku_id as {{ dbt.type_string() }})), '') as sku_id,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,
        cast(discount_pct as {{ dbt.type_float() }}) as discount_pct

    from source

)

select * from renamed
