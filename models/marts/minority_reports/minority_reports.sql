-- One finalised minority report per anomaly: the current detection of the active classifier on
-- the active baseline, with the cluster and the proposed cause the active cluster and attribution
-- versions wrote for that very detection row, and the version of every stage.
{% set versions = active_model_versions() %}

with

detections as (

    select * from {{ current_log_rows(
        validated_log('detection_log', alias='detection_log'), ['anomaly_id'],
        {'model_version': versions['anomaly_classifier'], 'baseline_model_version': versions['baseline']}
    ) }} as detection_rows

),

clusters as (

    select * from {{ current_log_rows(
        validated_log('cluster_log', alias='cluster_log'), ['detection_log_id'], {'model_version': versions['cluster_model']}
    ) }} as cluster_rows

),

causes as (

    select * from {{ current_log_rows(
        validated_log('attribution_log', alias='attribution_log'), ['detection_log_id'], {'model_version': versions['attribution_model']}
    ) }} as attribution_rows

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

final as (

    select
        detections.anomaly_id,
        detections.narrative_id,
        narratives.title as narrative_title,
        detections.store_id,
        stores.store_name,
        stores.retailer,
        stores.region,
        detections.sku_id,
        skus.sku_name,
        skus.category,
        detections.window_start,
        detections.window_end,
        detections.window_days,
        detections.direction,
        detections.magnitude,
        detections.actual_units,
        detections.expected_units,
        detections.residual_units,
        detections.relative_deviation,
        detections.z_score,
        detections.peak_date,
        detections.peak_ratio,
        clusters.cluster_name,
        clusters.similarity_score as cluster_similarity,
        clusters.cluster_size,
        causes.cause_type,
        causes.cause,
        causes.confidence as cause_confidence,
        causes.evidence_count,
        causes.evidence_campaign_ids,
        causes.evidence_event_ids,
        detections.baseline_model_version,
        detections.model_version as anomaly_classifier_version,
        clusters.model_version as cluster_model_version,
        causes.model_version as attribution_model_version,
        detections.log_id as detection_log_id,
        clusters.log_id as cluster_log_id,
        causes.log_id as attribution_log_id,
        greatest(detections.scored_at, clusters.scored_at, causes.scored_at) as reported_at
    from detections
    left join clusters on clusters.detection_log_id = detections.log_id
    left join causes on causes.detection_log_id = detections.log_id
    left join narratives on narratives.narrative_id = detections.narrative_id
    left join stores on stores.store_id = detections.store_id
    left join skus on skus.sku_id = detections.sku_id

)

select * from final
