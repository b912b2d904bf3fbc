"""baseline_log: expected units per store x SKU x day from the active `baseline` version (append-only)."""

from mrs.minority.baseline import score_baseline
from mrs.minority.config import AnomalyWindow, BaselineScoring
from mrs.versions import builtin_card


def model(dbt, session):
    dbt.config(materialized="incremental")
    card = builtin_card("baseline", dbt.config.get("active_version"))
    scoring = BaselineScoring(
        window=AnomalyWindow.parse(dbt.config.get("anomaly_window_start"), dbt.config.get("anomaly_window_end")),
        scoring_days=int(dbt.config.get("scoring_days")),
    )
    return score_baseline(
        session,
        dbt.ref("unified_sales_data"),
        card=card,
        scoring=scoring,
        log_relation=str(dbt.this) if dbt.is_incremental else None,
    )
