-- What attribution_model version 0 scores: the current detections of the active anomaly_classifier
-- on the active baseline, each with its narrative's cause and the evidence found in the data, the
-- campaigns and context events that overlap it.
--   a campaign overlaps when its retailer is the store's, its region (if any) the store's region,
--   its category (if any) the SKU's category, its SKU (if any) the SKU, and its dates meet the window;
--   a context event overlaps when its region (if any) is the store's region, its store (if any) is
--   the store, and its dates meet the window.
{% set versions = active_model_versions() %}

with

detections as (

    select * from {{ current_log_rows(
        ref('detection_log'), ['anomaly_id'],
        {'model_version': versions['anomaly_classifier'], 'baseline_model_version': versions['baseline']}
    ) }} as detection_rows

),

narratives as (

    select * from {{ ref('stg_narratives__narratives') }}

),

stores as (

    select * from {{ ref('stg_store_master__stores') }}

),

skus as (

    select * from {{ ref('stg_store_master__skus') }}

),

campaigns as (

    select * from {{ ref('stg_marketing__campaigns') }}

),

context_events as (

    select * from {{ ref('stg_context__events') }}

),

detected as (

    select
        detections.anomaly_id,
        detections.store_id,
        detections.sku_id,
        detections.window_start,
        detections.window_end,
        stores.retailer,
        stores.region,
        skus.category
    from detections
    left join stores on detections.store_id = stores.store_id
    left join skus on detections.sku_id = skus.sku_id

),

campaign_evidence as (

    select
        detected.anomaly_id,
        {{ sorted_array_agg('campaigns.campaign_id') }} as evidence_campaign_ids
    from detected
    inner join campaigns
        on detected.retailer = campaigns.retailer
        and (campaigns.region is null or detected.region = campaigns.region)
        and (campaigns.category is null or detected.category = campaigns.category)
        and (campaigns.sku_id is null or detected.sku_id = campaigns.sku_id)
        and detected.window_end >= campaigns.start_date
        and detected.window_start <= campaigns.end_date
    group by detected.anomaly_id

),

event_evidence as (

    select
        detected.anomaly_id,
        {{ sorted_array_agg('context_events.event_id') }} as evidence_event_ids
    from detected
    inner join context_events
        on (context_events.region is null or detected.region = context_events.region)
        and (context_events.store_id is null or detected.store_id = context_events.store_id)
        and detected.window_end >= context_events.start_date
        and detected.window_start <= context_events.end_date
    group by detected.anomaly_id

),

final as (

    select
        detections.anomaly_id,
        detections.log_id as detection_log_id,
        detections.narrative_id,
        narratives.cause_type,
        narratives.cause,
        narratives.confidence,
        coalesce(campaign_evidence.evidence_campaign_ids, {{ dbt.array_construct([], dbt.type_string()) }}) as evidence_campaign_ids,
        coalesce(event_evidence.evidence_event_ids, {{ dbt.array_construct([], dbt.type_string()) }}) as evidence_event_ids
    from detections
    left join narratives on detections.narrative_id = narratives.narrative_id
    left join campaign_evidence on detections.anomaly_id = campaign_evidence.anomaly_id
    left join event_evidence on detections.anomaly_id = event_evidence.anomaly_id

)

select * from final
