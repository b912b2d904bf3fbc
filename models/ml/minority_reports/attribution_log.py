"""attribution_log (MRPAL): a proposed cause with evidence per current detection, from the active `attribution_model`."""

from mrs.lifecycle.governance import require_active
from mrs.minority.attribution import score_attributions


def model(dbt, session):
    dbt.config(materialized="incremental")
    card = require_active("attribution_model", dbt.config.get("active_version"), dbt.ref("model_registry_log"), dbt.ref("model_approval_log"))
    return score_attributions(
        session,
        relations={
            "detection_log": dbt.ref("detection_log"),
            "narratives": dbt.ref("stg_narratives__narratives"),
            "stores": dbt.ref("stg_store_master__stores"),
            "skus": dbt.ref("stg_store_master__skus"),
            "campaigns": dbt.ref("stg_marketing__campaigns"),
            "context_events": dbt.ref("stg_context__events"),
        },
        card=card,
        classifier_version=str(dbt.config.get("anomaly_classifier_version")),
        baseline_version=str(dbt.config.get("baseline_version")),
        log_relation=str(dbt.this) if dbt.is_incremental else None,
    )
