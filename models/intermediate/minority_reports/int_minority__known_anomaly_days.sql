-- The store × SKU × period cells inside any detection_log window, of any version: known anomalies,
-- which the baseline's training extract (mrs train baseline) and its monitored error (the
-- baseline's residual drift in model_monitoring_log) leave out. The periods are the sales
-- calendar's (unified_sales_data), the only periods a feature or baseline row can have.

with

detections as (

    select * from {{ ref('detection_log') }}

),

sales_periods as (

    select distinct sales_date from {{ ref('unified_sales_data') }}

),

final as (

    select distinct
        detections.store_id,
        detections.sku_id,
        sales_periods.sales_date
    from detections
    inner join sales_periods
        on sales_periods.sales_date between detections.window_start and detections.window_end

)

select * from final
