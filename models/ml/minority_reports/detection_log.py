"""detection_log (MRDL): anomalies of the active `anomaly_classifier` on the active baseline (append-only)."""

from mrs.lifecycle.governance import require_active
from mrs.minority.config import AnomalyWindow
from mrs.minority.detection import score_detections


def model(dbt, session):
    dbt.config(materialized="incremental")
    card = require_active("anomaly_classifier", dbt.config.get("active_version"), dbt.ref("model_registry_log"), dbt.ref("model_approval_log"))
    return score_detections(
        session,
        baseline_log=dbt.ref("baseline_log"),
        narratives=dbt.ref("stg_narratives__narratives"),
        narrative_targets=dbt.ref("stg_narratives__narrative_targets"),
        card=card,
        baseline_version=str(dbt.config.get("baseline_version")),
        window=AnomalyWindow.resolve(dbt.config.get("anomaly_window_start"), dbt.config.get("anomaly_window_end"), dbt.ref("stg_narratives__narratives")),
        log_relation=str(dbt.this) if dbt.is_incremental else None,
    )
