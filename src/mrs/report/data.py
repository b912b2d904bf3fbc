"""What the report reads: the marts and logs, through a read-only connection, as pandas frames.

Only the columns each chart needs are required (:data:`REQUIRED`); every other column of a mart is
carried along and shown as it is, so the report keeps working when a mart or log gains columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

MINORITY_REPORTS = "marts.minority_reports"
DAILY_SALES = "marts.daily_sales_vs_baseline"
PRODUCT_INSIGHTS = "marts.product_insights"
INSIGHTS_LOG = "ml.product_insights_log"
MONITORING_LOG = "ml.model_monitoring_log"
ACTIVATION_LOG = "ml.model_activation_log"

REQUIRED: Mapping[str, Sequence[str]] = {
    MINORITY_REPORTS: ("anomaly_id", "store_id", "sku_id", "window_start", "window_end"),
    DAILY_SALES: ("store_id", "sku_id", "sales_date", "actual_units", "expected_units"),
    PRODUCT_INSIGHTS: ("product_id", "model_version"),
    INSIGHTS_LOG: (
        "product_id",
        "as_of_date",
        "current_price",
        "model_version",
        "price_forecast_next_week",
        "price_forecast_next_week_low",
        "price_forecast_next_week_high",
    ),
    MONITORING_LOG: ("model_name", "model_version", "signal", "subject", "value", "threshold", "is_breach", "scored_at"),
    ACTIVATION_LOG: ("run_id", "model_name", "model_version", "activated_at"),
}
"""The columns the report relies on, per relation; a relation without one of them is an error
naming it (a missing relation is an empty section, e.g. before the first build)."""


class ReportInputError(ValueError):
    """A mart or log the report reads lacks a column it needs."""


@dataclass
class ReportData:
    minority_reports: pd.DataFrame
    daily_sales: pd.DataFrame
    product_insights: pd.DataFrame
    insight_history: pd.DataFrame
    monitoring: pd.DataFrame
    activations: pd.DataFrame
    missing: tuple[str, ...]
    """Relations not in the warehouse (their sections say so)."""


def _relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        f"{schema}.{name}"
        for schema, name in con.sql("select table_schema, table_name from information_schema.tables").fetchall()
    }


def _read(con: duckdb.DuckDBPyConnection, relation: str, present: set[str], where: str = "") -> pd.DataFrame | None:
    if relation not in present:
        return None
    frame = con.sql(f"select * from {relation} {where}").df()
    absent = [c for c in REQUIRED[relation] if c not in frame.columns]
    if absent:
        raise ReportInputError(f"{relation} has no column(s) {absent}: the report needs {list(REQUIRED[relation])}")
    return frame


def _empty(relation: str) -> pd.DataFrame:
    return pd.DataFrame(columns=list(REQUIRED[relation]))


def load(con: duckdb.DuckDBPyConnection) -> ReportData:
    """Every frame of the report. Daily sales are read only for the pairs that have a report, and
    the insight history only for the versions the products mart shows (the active one)."""
    present = _relations(con)
    frames: dict[str, pd.DataFrame | None] = {}
    frames[MINORITY_REPORTS] = _read(con, MINORITY_REPORTS, present, "order by window_start, anomaly_id")
    pairs = (
        f"where (store_id, sku_id) in (select (store_id, sku_id) from {MINORITY_REPORTS}) order by sales_date"
        if MINORITY_REPORTS in present
        else "limit 0"
    )
    frames[DAILY_SALES] = _read(con, DAILY_SALES, present, pairs)
    frames[PRODUCT_INSIGHTS] = _read(con, PRODUCT_INSIGHTS, present, "order by product_id")
    versions = (
        f"where (model_name, model_version) in (select distinct (model_name, model_version) from {PRODUCT_INSIGHTS} "
        "where model_version is not null) order by product_id, as_of_date, scored_at"
        if PRODUCT_INSIGHTS in present
        else ""
    )
    frames[INSIGHTS_LOG] = _read(con, INSIGHTS_LOG, present, versions)
    frames[MONITORING_LOG] = _read(con, MONITORING_LOG, present, "order by model_name, scored_at, signal, subject")
    frames[ACTIVATION_LOG] = _read(con, ACTIVATION_LOG, present, "order by activated_at, model_name")
    return ReportData(
        minority_reports=_or_empty(frames, MINORITY_REPORTS),
        daily_sales=_or_empty(frames, DAILY_SALES),
        product_insights=_or_empty(frames, PRODUCT_INSIGHTS),
        insight_history=_or_empty(frames, INSIGHTS_LOG),
        monitoring=_or_empty(frames, MONITORING_LOG),
        activations=_or_empty(frames, ACTIVATION_LOG),
        missing=tuple(sorted(name for name, frame in frames.items() if frame is None)),
    )


def _or_empty(frames: Mapping[str, pd.DataFrame | None], relation: str) -> pd.DataFrame:
    frame = frames[relation]
    return _empty(relation) if frame is None else frame


def load_warehouse(path: Path) -> ReportData:
    """:func:`load` over a read-only connection to the warehouse file."""
    with duckdb.connect(str(path), read_only=True) as con:
        return load(con)
