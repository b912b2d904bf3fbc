"""model_monitoring_log: drift signals of every active model version on the latest data (append-only)."""

from mrs.lifecycle.governance import parse_active_versions, resolve_actives
from mrs.lifecycle.monitoring import MonitoringConfig, monitor_active_models


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
        "cluster_log": dbt.ref("cluster_log"),
        "attribution_log": dbt.ref("attribution_log"),
    }
    return monitor_active_models(
        session,
        relations,
        actives,
        MonitoringConfig.from_mapping(dbt.config.get("monitoring")),
        log_relation=str(dbt.this) if dbt.is_incremental else None,
    )
