"""cluster_log (MRCL): a cluster and shape similarity per current detection, from the active `cluster_model`."""

from mrs.lifecycle.governance import require_active
from mrs.minority.clustering import score_clusters


def model(dbt, session):
    dbt.config(materialized="incremental")
    card = require_active("cluster_model", dbt.config.get("active_version"), dbt.ref("model_registry_log"), dbt.ref("model_approval_log"))
    return score_clusters(
        session,
        detection_log=dbt.ref("detection_log"),
        narratives=dbt.ref("stg_narratives__narratives"),
        card=card,
        classifier_version=str(dbt.config.get("anomaly_classifier_version")),
        baseline_version=str(dbt.config.get("baseline_version")),
        log_relation=str(dbt.this) if dbt.is_incremental else None,
    )
