-- Every review of every anomaly: one row per anomaly and pair of (classifier, baseline) versions
-- that scored it, with what that review saw. Activating a new baseline version (or re-reviewing
-- history with it) adds rows beside the earlier ones, so an anomaly reads before and after;
-- is_active_review marks the row minority_reports shows.
{% set versions = active_model_versions() %}

with

detection_rows as (

    select
        *,
        row_number() over (
            partition by anomaly_id, model_version, baseline_model_version order by scored_at desc, log_id asc
        ) as recency,
        min(scored_at) over (partition by anomaly_id, model_version, baseline_model_version) as first_reviewed_at
    from {{ validated_log('detection_log', alias='detection_log') }}

),

reviews as (

    select * from detection_rows where recency = 1

),

final as (

    select
        anomaly_id,
        narrative_id,
        store_id,
        sku_id,
        window_start,
        window_end,
        model_version as anomaly_classifier_version,
        baseline_model_version,
        actual_units,
        expected_units,
        residual_units,
        relative_deviation,
        z_score,
        observed_direction,
        peak_ratio,
        first_reviewed_at,
        scored_at as last_reviewed_at,
        model_version = '{{ versions["anomaly_classifier"] }}'
        and baseline_model_version = '{{ versions["baseline"] }}' as is_active_review
    from reviews

)

select * from final
