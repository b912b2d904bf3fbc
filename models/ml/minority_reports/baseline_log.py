"""baseline_log: expected units per store x SKU x day from the active `baseline` version (append-only)."""

from mrs.lifecycle.governance import resolve_active
from mrs.lifecycle.learned_baseline import Rereview, score_active_baseline
from mrs.minority.config import AnomalyWindow, BaselineScoring


def model(dbt, session):
    dbt.config(materialized="incremental")
    # the gate: a registered, approved version, or the build fails here before scoring anything
    active = resolve_active("baseline", dbt.config.get("active_version"), dbt.ref("model_registry_log"), dbt.ref("model_approval_log"))
    rereview = Rereview.parse(dbt.config.get("rereview"))
    scoring = BaselineScoring(
        window=AnomalyWindow.parse(dbt.config.get("anomaly_window_start"), dbt.config.get("anomaly_window_end")),
        scoring_days=int(dbt.config.get("scoring_days")),
        rereview=rereview.range_for("baseline") if rereview else None,
    )
    return score_active_baseline(
        session,
        active,
        sales=dbt.ref("unified_sales_data"),
        sales_features=dbt.ref("int_sales_features"),
        scoring=scoring,
        log_relation=str(dbt.this) if dbt.is_incremental else None,
    )
