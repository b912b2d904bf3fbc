-- What the learned cluster and attribution models describe: the current detections of the active
-- anomaly_classifier on the active baseline (the newest detection_log row per anomaly among those
-- versions' rows), with the pair's master attributes and the daily curves their shapes are read from.
{% set versions = active_model_versions() %}

with

detections as (

    select * from {{ current_log_rows(
        ref('detection_log'), ['anomaly_id'],
        {'model_version': versions['anomaly_classifier'], 'baseline_model_version': versions['baseline']}
    ) }} as detection_rows

),

stores as (

    select * from {{ ref('stg_store_master__stores') }}

),

skus as (

    select * from {{ ref('stg_store_master__skus') }}

),

final as (

    select
        detections.anomaly_id,
        detections.log_id as detection_log_id,
        detections.store_id,
        detections.sku_id,
        detections.window_start,
        detections.window_end,
        detections.window_days,
        detections.observed_direction,
        detections.daily_actual_units,
        detections.daily_expected_units,
        {{ text_attribute('stores.retailer') }} as retailer,
        {{ text_attribute('stores.region') }} as region,
        {{ text_attribute('skus.category') }} as category
    from detections
    left join stores on stores.store_id = detections.store_id
    left join skus on skus.sku_id = detections.sku_id

)

select * from final
