"""detection_log (MRDL): anomalies of the active `anomaly_classifier` on the active baseline (append-only)."""

from mrs.lifecycle.governance import resolve_active
from mrs.lifecycle.registry import TRAINED
from mrs.logs import add_missing_log_columns
from mrs.minority.config import AnomalyWindow
from mrs.minority.detection import score_detections
from mrs.minority.schemas import DETECTION_LOG
from mrs.minority.scoring_v1 import score_detections_v1


def model(dbt, session):
    dbt.config(materialized="incremental")
    active = resolve_active(
        "anomaly_classifier", dbt.config.get("active_version"), dbt.ref("model_registry_log"), dbt.ref("model_approval_log")
    )
    log_relation = str(dbt.this) if dbt.is_incremental else None
    # a log built before a column was declared gets it now (ALTER TABLE; no row rewritten)
    add_missing_log_columns(session, log_relation, DETECTION_LOG.schema)
    baseline_version = str(dbt.config.get("baseline_version"))
    if active.kind == TRAINED:  # v1: scans every scored period of the baseline; never reads the narratives
        return score_detections_v1(
            session,
            active=active,
            scored_periods=dbt.ref("int_minority__scored_periods"),
            baseline_version=baseline_version,
            log_relation=log_relation,
        )
    # v0: the narrative targets' windows against the baseline, assembled in SQL
    return score_detections(
        session,
        dbt.ref("int_minority__narrative_detection_inputs"),
        card=active.card,
        baseline_version=baseline_version,
        window=AnomalyWindow.resolve(
            dbt.config.get("anomaly_window_start"), dbt.config.get("anomaly_window_end"), dbt.ref("stg_narratives__narratives")
        ),
        log_relation=log_relation,
    )
