"""detection_log (MRDL): anomalies of the active `anomaly_classifier` on the active baseline (append-only)."""

from mrs.minority.config import AnomalyWindow
from mrs.minority.detection import score_detections
from mrs.versions import builtin_card


def model(dbt, session):
    dbt.config(materialized="incremental")
    card = builtin_card("anomaly_classifier", dbt.config.get("active_version"))
    return score_detections(
        session,
        baseline_log=dbt.ref("baseline_log"),
        narratives=dbt.ref("stg_narratives__narratives"),
        narrative_targets=dbt.ref("stg_narratives__narrative_targets"),
        card=card,
        baseline_version=str(dbt.config.get("baseline_version")),
        window=AnomalyWindow.parse(dbt.config.get("anomaly_window_start"), dbt.config.get("anomaly_window_end")),
        log_relation=str(dbt.this) if dbt.is_incremental else None,
    )
