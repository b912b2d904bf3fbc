"""model_monitoring_log: drift signals of every active model version on the latest data (append-only)."""

from mrs.build_notes import build_note
from mrs.lifecycle.governance import parse_active_versions, resolve_actives
from mrs.lifecycle.monitoring import MonitoringConfig, monitor_active_models, unmonitored_models


def model(dbt, session):
    dbt.config(materialized="incremental")
    versions = parse_active_versions(dbt.config.get("active_versions"))
    actives = resolve_actives(versions, dbt.ref("model_registry_log"), dbt.ref("model_approval_log"))
    relations = {
        "sales_features": dbt.ref("int_sales_features"),
        "insight_features": dbt.ref("int_product_insight_features"),
        "baseline_log": dbt.ref("baseline_log"),
        "product_insights_log": dbt.ref("product_insights_log"),
        "detection_log": dbt.ref("detection_log"),
        "known_anomaly_days": dbt.ref("int_minority__known_anomaly_days"),
        "cluster_log": dbt.ref("cluster_log"),
        "attribution_log": dbt.ref("attribution_log"),
    }
    config = MonitoringConfig.from_mapping(dbt.config.get("monitoring"))
    batch = monitor_active_models(session, relations, actives, config, log_relation=str(dbt.this) if dbt.is_incremental else None)
    for name, version in unmonitored_models(batch).items():
        build_note(
            "model_monitoring_log",
            f"WARNING {name} {version} is not monitored: every signal is insufficient_data (fewer than "
            f"min_rows={config.min_rows} values or min_entities={config.min_entities} entities); lower "
            "vars.model_monitoring.min_rows / min_entities for a portfolio this small",
        )
    return batch
