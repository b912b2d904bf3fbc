-- What is registered, approved and active: one row per model version in the registry, with its
-- latest governance decision, its activation history, the signals of its latest monitoring
-- evaluation and its open retrain events.
{% set active = active_model_versions() %}

with

registry_rows as (

    select
        *,
        row_number() over (partition by model_name, model_version order by registered_at, log_id) as registration_order
    from {{ validated_log('model_registry_log', alias='model_registry_log') }}

),

registry as (

    select * from registry_rows where registration_order = 1

),

decision_rows as (

    select
        *,
        row_number() over (
            partition by model_name, model_version order by decided_at desc, approval_id desc
        ) as recency
    from {{ validated_log('model_approval_log', alias='model_approval_log') }}

),

latest_decisions as (

    select * from decision_rows where recency = 1

),

active_versions as (

    {% for name, version in active.items() %}
    select '{{ name }}' as model_name, '{{ version }}' as model_version
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

activations as (

    select
        model_name,
        model_version,
        min(activated_at) as first_activated_at,
        max(activated_at) as last_activated_at,
        count(*) as builds_active
    from {{ validated_log('model_activation_log', alias='model_activation_log') }}
    group by model_name, model_version

),

evaluation_rows as (

    select
        model_name,
        model_version,
        evaluation_id,
        row_number() over (
            partition by model_name, model_version order by as_of_date desc, scored_at desc, evaluation_id asc
        ) as recency
    from {{ validated_log('model_monitoring_log', alias='model_monitoring_log') }}

),

latest_evaluations as (

    select distinct model_name, model_version, evaluation_id from evaluation_rows where recency = 1

),

signals as (

    select
        monitoring.model_name,
        monitoring.model_version,
        max(monitoring.as_of_date) as monitored_as_of,
        max(case when monitoring.subject = 'dataset' then monitoring.value end) as drifted_feature_share,
        max(case when monitoring.signal = 'feature_drift' and monitoring.subject <> 'dataset' then monitoring.value end) as max_feature_drift,
        max(case when monitoring.signal = 'residual_drift' then monitoring.value end) as residual_drift,
        max(case when monitoring.signal = 'confidence_decay' then monitoring.value end) as confidence_decay,
        max(case when monitoring.subject = 'dataset' and monitoring.is_breach then 1 else 0 end) = 1 as feature_drift_breach,
        max(case when monitoring.signal = 'residual_drift' and monitoring.is_breach then 1 else 0 end) = 1 as residual_drift_breach,
        max(case when monitoring.signal = 'confidence_decay' and monitoring.is_breach then 1 else 0 end) = 1 as confidence_decay_breach
    from {{ validated_log('model_monitoring_log') }} as monitoring
    inner join latest_evaluations
        on latest_evaluations.evaluation_id = monitoring.evaluation_id
        and latest_evaluations.model_name = monitoring.model_name
        and latest_evaluations.model_version = monitoring.model_version
    group by monitoring.model_name, monitoring.model_version

),

answered_events as (

    select distinct answered.event_id
    from registry
    -- a column alias list, not a function call:
    cross join unnest(registry.retrain_event_ids) as answered(event_id)  -- noqa: LT01

),

open_events as (

    select
        events.model_name,
        events.model_version,
        count(distinct events.event_id) as open_retrain_events
    from {{ validated_log('model_retrain_event_log') }} as events
    left join answered_events on answered_events.event_id = events.event_id
    where answered_events.event_id is null
    group by events.model_name, events.model_version

),

final as (

    select
        registry.model_name,
        registry.model_version,
        registry.model_kind,
        registry.description,
        registry.trained_on,
        registry.model_registry_source,
        registry.artifact_uri,
        registry.training_rows,
        registry.validation_wape,
        registry.holdout_wape,
        registry.holdout_mase,
        registry.holdout_relative_mae,
        registry.registered_at,
        coalesce(latest_decisions.decision, 'pending') as approval_status,
        latest_decisions.approval_id,
        latest_decisions.decided_by,
        latest_decisions.decided_at,
        latest_decisions.reason as decision_reason,
        active_versions.model_name is not null as is_active,
        activations.first_activated_at,
        activations.last_activated_at,
        coalesce(activations.builds_active, 0) as builds_active,
        signals.monitored_as_of,
        signals.drifted_feature_share,
        signals.max_feature_drift,
        signals.residual_drift,
        signals.confidence_decay,
        coalesce(signals.feature_drift_breach, false) as feature_drift_breach,
        coalesce(signals.residual_drift_breach, false) as residual_drift_breach,
        coalesce(signals.confidence_decay_breach, false) as confidence_decay_breach,
        coalesce(signals.feature_drift_breach or signals.residual_drift_breach or signals.confidence_decay_breach, false)
            as has_drift,
        coalesce(open_events.open_retrain_events, 0) as open_retrain_events
    from registry
    left join latest_decisions
        on latest_decisions.model_name = registry.model_name
        and latest_decisions.model_version = registry.model_version
    left join active_versions
        on active_versions.model_name = registry.model_name
        and active_versions.model_version = registry.model_version
    left join activations
        on activations.model_name = registry.model_name
        and activations.model_version = registry.model_version
    left join signals
        on signals.model_name = registry.model_name
        and signals.model_version = registry.model_version
    left join open_events
        on open_events.model_name = registry.model_name
        and open_events.model_version = registry.model_version

)

select * from final
