"""cluster_log (MRCL): a cluster and shape similarity per current detection, from the active `cluster_model`."""

from mrs.minority.clustering import score_clusters
from mrs.versions import builtin_card


def model(dbt, session):
    dbt.config(materialized="incremental")
    card = builtin_card("cluster_model", dbt.config.get("active_version"))
    return score_clusters(
        session,
        detection_log=dbt.ref("detection_log"),
        narratives=dbt.ref("stg_narratives__narratives"),
        card=card,
        classifier_version=str(dbt.config.get("anomaly_classifier_version")),
        baseline_version=str(dbt.config.get("baseline_version")),
        log_relation=str(dbt.this) if dbt.is_incremental else None,
    )
