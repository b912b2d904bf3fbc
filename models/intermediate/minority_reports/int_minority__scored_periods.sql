-- What the learned anomaly classifier scans: every period the active baseline version scored (its
-- current baseline_log rows), with the pair's master attributes that define the slices above it
-- (mrs.minority.scan.SLICES). Never the narratives.
{% set versions = active_model_versions() %}

with

baseline as (

    select * from {{ current_log_rows(ref('baseline_log'), ['store_id', 'sku_id', 'sales_date'], {'model_version': versions['baseline']}) }} as baseline_rows

),

stores as (

    select * from {{ ref('stg_store_master__stores') }}

),

skus as (

    select * from {{ ref('stg_store_master__skus') }}

),

final as (

    select
        baseline.store_id,
        baseline.sku_id,
        baseline.sales_date,
        baseline.actual_units,
        baseline.expected_units,
        baseline.log_id as baseline_log_id,
        {{ text_attribute('stores.retailer') }} as retailer,
        {{ text_attribute('stores.region') }} as region,
        {{ text_attribute('skus.category') }} as category
    from baseline
    left join stores on stores.store_id = baseline.store_id
    left join skus on skus.sku_id = baseline.sku_id

)

select * from final
