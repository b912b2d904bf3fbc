"""baseline_log: expected units per store x SKU x period from the active `baseline` version (append-only)."""

from mrs.build_notes import build_note
from mrs.lifecycle.governance import resolve_active
from mrs.lifecycle.learned_baseline import Rereview, score_active_baseline
from mrs.logs import add_missing_log_columns
from mrs.minority.baseline import sales_date_range
from mrs.minority.config import AnomalyWindow, BaselineScoring, SalesGrain
from mrs.minority.schemas import BASELINE_LOG


def model(dbt, session):
    dbt.config(materialized="incremental")
    # the gate: a registered, approved version, or the build fails here before scoring anything
    active = resolve_active(
        "baseline", dbt.config.get("active_version"), dbt.ref("model_registry_log"), dbt.ref("model_approval_log")
    )
    log_relation = str(dbt.this) if dbt.is_incremental else None
    # a log built before a column was declared gets it now (ALTER TABLE; no row rewritten)
    add_missing_log_columns(session, log_relation, BASELINE_LOG.schema)
    rereview = Rereview.parse(dbt.config.get("rereview"))
    sales = dbt.ref("unified_sales_data")
    scoring = BaselineScoring(
        window=AnomalyWindow.resolve(
            dbt.config.get("anomaly_window_start"), dbt.config.get("anomaly_window_end"), dbt.ref("stg_narratives__narratives")
        ),
        scoring_periods=int(dbt.config.get("scoring_periods")),
        grain=SalesGrain.parse(dbt.config.get("sales_grain")),
        rereview=rereview.range_for("baseline") if rereview else None,
    )
    first_day, last_day = sales_date_range(sales)
    if last_day is None:
        build_note(
            "baseline_log",
            "no sales data (vars.raw_tables names no sales table or feed with rows): "
            "the minority-report logs and marts stay empty",
        )
    scoring.check_covers(first_day, last_day)
    return score_active_baseline(
        session,
        active,
        sales=sales,
        sales_features=dbt.ref("int_sales_features"),
        scoring=scoring,
        log_relation=log_relation,
    )
