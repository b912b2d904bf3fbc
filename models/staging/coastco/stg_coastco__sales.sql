-- coastco sends numeric store numbers, EAN barcodes, YYYYMMDD dates and revenue in cents.
-- Its columns keep the feed's own upper-case names:
-- noqa: disable=CP02
with

source as (

    select * from {{ source('coastco', 'sales_coastco') }} as raw_rows

),

renamed as (

    select
        'coastco' as retailer,
        -- store numbers and EANs: unified_sales_data maps them to store and SKU ids through the masters
        cast(null as {{ dbt.type_string() }}) as store_id,
        cast(STORE_NBR as {{ dbt.type_string() }}) as retailer_store_ref,
        cast(null as {{ dbt.type_string() }}) as sku_id,
        cast(EAN as {{ dbt.type_string() }}) as ean,
        {{ parse_yyyymmdd('cast(TXN_DATE as ' ~ dbt.type_string() ~ ')') }} as sales_date,
        cast(QTY as {{ dbt.type_bigint() }}) as units_sold,
        cast(SALES_CENTS as {{ dbt.type_float() }}) / 100.0 as revenue

    from source

)

select * from renamed
