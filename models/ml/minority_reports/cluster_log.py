"""cluster_log (MRCL): a cluster and shape similarity per current detection, from the active `cluster_model`."""

from mrs.lifecycle.governance import resolve_active
from mrs.lifecycle.registry import TRAINED
from mrs.logs import add_missing_log_columns
from mrs.minority.clustering import score_clusters
from mrs.minority.schemas import CLUSTER_LOG
from mrs.minority.scoring_v1 import score_clusters_v1


def model(dbt, session):
    dbt.config(materialized="incremental")
    active = resolve_active("cluster_model", dbt.config.get("active_version"), dbt.ref("model_registry_log"), dbt.ref("model_approval_log"))
    log_relation = str(dbt.this) if dbt.is_incremental else None
    # a log built before a column was declared gets it now (ALTER TABLE; no row rewritten)
    add_missing_log_columns(session, log_relation, CLUSTER_LOG.schema)
    classifier_version = str(dbt.config.get("anomaly_classifier_version"))
    baseline_version = str(dbt.config.get("baseline_version"))
    if active.kind == TRAINED:  # v1: HDBSCAN shape clusters of the incidents; never reads the narratives
        return score_clusters_v1(
            session, active=active, detections=dbt.ref("int_minority__current_detections"),
            scored_periods=dbt.ref("int_minority__scored_periods"), log_relation=log_relation,
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
