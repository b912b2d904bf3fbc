"""cluster_log (MRCL): a cluster and shape similarity per current detection, from the active `cluster_model`."""

from mrs.lifecycle.governance import resolve_active
from mrs.lifecycle.registry import TRAINED
from mrs.minority.clustering import score_clusters
from mrs.minority.scoring_v1 import score_clusters_v1


def model(dbt, session):
    dbt.config(materialized="incremental")
    active = resolve_active("cluster_model", dbt.config.get("active_version"), dbt.ref("model_registry_log"), dbt.ref("model_approval_log"))
    log_relation = str(dbt.this) if dbt.is_incremental else None
    classifier_version = str(dbt.config.get("anomaly_classifier_version"))
    baseline_version = str(dbt.config.get("baseline_version"))
    if active.kind == TRAINED:  # v1: HDBSCAN shape clusters of the incidents; never reads the narratives
        return score_clusters_v1(
            session, active=active, detection_log=dbt.ref("detection_log"), baseline_log=dbt.ref("baseline_log"),
            stores=dbt.ref("stg_store_master__stores"), skus=dbt.ref("stg_store_master__skus"),
            classifier_version=classifier_version, baseline_version=baseline_version, log_relation=log_relation,
        )
    return score_clusters(
        session,
        detection_log=dbt.ref("detection_log"),
        narratives=dbt.ref("stg_narratives__narratives"),
        card=active.card,
        classifier_version=classifier_version,
        baseline_version=baseline_version,
        log_relation=log_relation,
    )
