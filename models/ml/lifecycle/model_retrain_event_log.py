"""model_retrain_event_log: reactive (drift breach) and proactive (age) retrain events of the active versions."""

from mrs.lifecycle.governance import parse_active_versions, resolve_actives
from mrs.lifecycle.monitoring import MonitoringConfig, record_retrain_events


def model(dbt, session):
    dbt.config(materialized="incremental")
    versions = parse_active_versions(dbt.config.get("active_versions"))
    actives = resolve_actives(versions, dbt.ref("model_registry_log"), dbt.ref("model_approval_log"))
    return record_retrain_events(
        session,
        dbt.ref("model_monitoring_log"),
        actives,
        MonitoringConfig.from_mapping(dbt.config.get("monitoring")),
        log_relation=str(dbt.this) if dbt.is_incremental else None,
    )
