-- Actual units against the active baseline per store × SKU × day, for charts: every day the
-- active baseline version scored, with the narrative (if any) whose window covers the day.
{% set versions = active_model_versions() %}

with

baseline as (

    select * from {{ current_log_rows(
        validated_log('baseline_log', alias='baseline_log'), ['store_id', 'sku_id', 'sales_date'], {'model_version': versions['baseline']}
    ) }} as baseline_rows

),

narrative_windows as (

    select
        targets.store_id,
        targets.sku_id,
        narratives.narrative_id,
        narratives.window_start,
        narratives.window_end
    from {{ ref('stg_narratives__narrative_targets') }} as targets
    inner join {{ ref('stg_narratives__narratives') }} as narratives
        on narratives.narrative_id = targets.narrative_id

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
        stores.store_name,
        stores.retailer,
        stores.region,
        baseline.sku_id,
        skus.sku_name,
        skus.category,
        baseline.sales_date,
        baseline.actual_units,
        baseline.expected_units,
        baseline.residual_units,
        baseline.in_anomaly_window,
        narrative_windows.narrative_id,
        narrative_windows.narrative_id is not null as is_anomalous_day,
        baseline.model_version as baseline_model_version,
        baseline.log_id as baseline_log_id
    from baseline
    left join stores on stores.store_id = baseline.store_id
    left join skus on skus.sku_id = baseline.sku_id
    left join narrative_windows
        on narrative_windows.store_id = baseline.store_id
        and narrative_windows.sku_id = baseline.sku_id
        and baseline.sales_date between narrative_windows.window_start and narrative_windows.window_end

)

select * from final
