"""The heuristic product-insights runner (``product_insights`` version 0).

From one feature row per product × as-of date (``product_insight_inputs``):

* **baseline**: the mean price of the last 7 days; the MSRP when the history is sparse (fewer than
  ``sparse_history_threshold`` points in the last-28-points window), with the reason;
* **trend**: the 7-day trend ratio (last 7 days against the 7 before), clipped; neutral (1.0) when
  the history is sparse or the previous window is empty;
* **forecasts** for next week and next month: baseline × (1 + (trend − 1) × horizon trend scale),
  with low/high bounds that widen with price volatility, thin history and alert activity;
* **sellout risk** (0–1) and **hype score** (0–100) from popularity and alert velocity;
* **ROI** of buying now at the current price, or at MSRP, and selling at the forecast;
* **forecast confidence** from the history depth (the row's ``model_confidence_metric``).

Every constant is in :class:`~mrs.insights.config.HeuristicConfig`. The computation is vectorised
over the whole batch with numpy: no Python loop per row, no randomness, no wall clock.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mrs.insights.config import HeuristicConfig, HorizonConfig
from mrs.insights.runner import FeatureSource, InsightsInputError, ModelRunner
from mrs.insights.schema import FEATURE_SCHEMA, FEATURES_TABLE, INSIGHT_SCHEMA, LEARNED_RUNNER_INPUTS


def _floats(table: pa.Table, column: str) -> np.ndarray:
    """A column as float64 with NaN for null."""
    return table.column(column).cast(pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)


def _nullable(values: np.ndarray) -> pa.Array:
    """float64 Arrow array; NaN becomes null."""
    return pa.array(values, type=pa.float64(), mask=np.isnan(values))


def _keys(table: pa.Table, mask: pa.Array | np.ndarray, limit: int = 10) -> list[dict]:
    rows = pc.indices_nonzero(pa.array(mask, pa.bool_())).to_pylist()[:limit]
    return table.select(["product_id", "as_of_date"]).take(rows).to_pylist()


def validate_features(features: pa.Table, *, needs_recent_mean: bool = True) -> pa.Table:
    """The feature columns the heuristic reads, cast to :data:`FEATURE_SCHEMA`.

    Raises :class:`InsightsInputError` naming the table, the column and (up to 10) offending rows
    for a missing column, a null in a required column, a non-positive MSRP, a negative count or
    (``needs_recent_mean``: the heuristic's baseline) a row with history but no recent price.
    """
    missing = [f.name for f in FEATURE_SCHEMA if f.name not in features.column_names]
    if missing:
        raise InsightsInputError(f"{FEATURES_TABLE}: missing column(s) {missing}")
    try:
        table = pa.Table.from_arrays([features.column(f.name).cast(f.type) for f in FEATURE_SCHEMA], names=FEATURE_SCHEMA.names)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InsightsInputError(f"{FEATURES_TABLE}: a column has the wrong type: {exc}") from exc
    for f in FEATURE_SCHEMA:
        if not f.nullable and table.column(f.name).null_count:
            raise InsightsInputError(
                f"{FEATURES_TABLE}.{f.name}: {table.column(f.name).null_count} null value(s), "
                f"e.g. at {_keys(table, pc.is_null(table.column(f.name)))}"
            )
    checks = {
        "msrp": (pc.less_equal(table.column("msrp"), 0.0), "must be > 0"),
        "history_depth": (pc.less(table.column("history_depth"), 0), "must be >= 0"),
        "alerts_last_7d": (pc.less(table.column("alerts_last_7d"), 0), "must be >= 0"),
    }
    if needs_recent_mean:
        checks["mean_last_7d"] = (
            pc.and_(pc.greater(table.column("history_depth"), 0), pc.is_null(table.column("mean_last_7d"))),
            "must be set when history_depth > 0 (the as-of date has a price)",
        )
    for column, (mask, rule) in checks.items():
        mask = mask.combine_chunks() if isinstance(mask, pa.ChunkedArray) else mask
        if pc.any(mask).as_py():
            raise InsightsInputError(f"{FEATURES_TABLE}.{column} {rule}; offending rows: {_keys(table, mask)}")
    return table


class HeuristicModelRunner(ModelRunner):
    """Deterministic insights from price trend, alert velocity and popularity."""

    model_version = "0"

    def __init__(self, config: HeuristicConfig | None = None, features: FeatureSource | None = None) -> None:
        super().__init__(features)
        self.config = config or HeuristicConfig()

    def fingerprint_columns(self, columns: list[str]) -> list[str] | None:
        """Every input column but those only a learned runner reads (:data:`LEARNED_RUNNER_INPUTS`)."""
        return [c for c in columns if c not in LEARNED_RUNNER_INPUTS]

    def predict_batch(self, features: pa.Table) -> pa.Table:
        cfg = self.config
        table = validate_features(features)
        depth = table.column("history_depth").to_numpy(zero_copy_only=False).astype(np.int64)
        alerts = table.column("alerts_last_7d").to_numpy(zero_copy_only=False).astype(np.float64)
        popularity = table.column("popularity_score").to_numpy(zero_copy_only=False).astype(np.float64)
        msrp = _floats(table, "msrp")
        current = _floats(table, "latest_price")
        mean_last_7d = _floats(table, "mean_last_7d")
        trend_observed = _floats(table, "trend_ratio")
        mean_28 = _floats(table, "mean_28_points")
        stddev_28 = _floats(table, "stddev_28_points")

        # baseline: recent price level, or the MSRP when the history is sparse
        sparse = depth < cfg.sparse_history_threshold
        baseline = np.where(sparse, msrp, mean_last_7d)
        source = np.where(sparse, "msrp", "recent_price")
        reason = np.where(depth == 0, "no_price_history", np.where(sparse, "sparse_history", np.asarray(None, dtype=object)))

        # trend: clipped; neutral with a sparse history or no previous window
        no_trend = sparse | np.isnan(trend_observed)
        trend_used = np.where(
            no_trend, 1.0, np.clip(np.nan_to_num(trend_observed, nan=1.0), cfg.trend_ratio_min, cfg.trend_ratio_max)
        )

        # bound widening shared by both horizons
        safe_mean = np.where(mean_28 > 0, mean_28, 1.0)
        cv = np.where((mean_28 > 0) & np.isfinite(stddev_28), stddev_28 / safe_mean, 0.0)
        history_shortfall = 1.0 - np.minimum(depth, cfg.full_history_points) / cfg.full_history_points
        alert_intensity = np.minimum(alerts / cfg.alert_saturation, 1.0)
        widening = (1.0 + cfg.thin_history_widening * history_shortfall) * (1.0 + cfg.alert_widening * alert_intensity)

        columns: dict[str, pa.Array] = {
            "product_id": table.column("product_id"),
            "as_of_date": table.column("as_of_date"),
            "msrp": pa.array(msrp, pa.float64()),
            "current_price": _nullable(current),
            "history_depth": pa.array(depth, pa.int32()),
            "popularity_score": pa.array(popularity.astype(np.int32), pa.int32()),
            "alert_velocity": pa.array(alerts.astype(np.int32), pa.int32()),
            "baseline_price": pa.array(baseline, pa.float64()),
            "baseline_source": pa.array(source.tolist(), pa.string()),
            "msrp_fallback_reason": pa.array(reason.tolist(), pa.string()),
            "trend_ratio_observed": _nullable(trend_observed),
            "trend_ratio_used": pa.array(trend_used, pa.float64()),
        }
        forecasts = {}
        for name, horizon in (("next_week", cfg.next_week), ("next_month", cfg.next_month)):
            point, low, high = _forecast(baseline, trend_used, cv, widening, horizon)
            forecasts[name] = point
            columns[f"price_forecast_{name}"] = pa.array(point, pa.float64())
            columns[f"price_forecast_{name}_low"] = pa.array(low, pa.float64())
            columns[f"price_forecast_{name}_high"] = pa.array(high, pa.float64())
        columns["forecast_confidence"] = pa.array(
            np.clip(depth / cfg.confidence_full_points, cfg.confidence_floor, cfg.confidence_ceiling), pa.float64()
        )
        columns.update(market_signals(cfg, msrp, current, forecasts, popularity, alerts))
        # the columns version 1 added: v0's bounds state no level (they are not calibrated)
        columns["price_source"] = pa.array(np.where(sparse, "msrp", "recent_prices").tolist(), pa.string())
        columns["price_age_days"] = pa.array([0 if d > 0 else None for d in depth.tolist()], pa.int32())
        columns["bound_level"] = pa.nulls(len(depth), pa.float64())
        columns["forecast_method"] = pa.array(["heuristic"] * len(depth), pa.string())
        return pa.Table.from_arrays([columns[f.name] for f in INSIGHT_SCHEMA], schema=INSIGHT_SCHEMA)


def market_signals(
    cfg: HeuristicConfig,
    msrp: np.ndarray,
    current: np.ndarray,
    forecasts: dict[str, np.ndarray],
    popularity: np.ndarray,
    alerts: np.ndarray,
    extra_risk: np.ndarray | None = None,
) -> dict[str, pa.Array]:
    """Sellout risk, discount, ROI and hype from the forecasts (``next_week``, ``next_month``),
    popularity and alerts; every runner computes them this way (``extra_risk``: a runner's own
    addition to the risk before the clip)."""
    risk = cfg.risk_popularity_weight * popularity / 100.0 + cfg.risk_per_alert * alerts
    if extra_risk is not None:
        risk = risk + extra_risk
    columns: dict[str, pa.Array] = {"sellout_risk": pa.array(np.clip(risk, 0.0, 1.0), pa.float64())}
    columns["discount_vs_msrp"] = _nullable((msrp - current) / msrp)
    for name, point in forecasts.items():
        columns[f"roi_{name}_vs_current"] = _nullable(point / current - 1.0)
    for name, point in forecasts.items():
        columns[f"roi_{name}_vs_msrp"] = pa.array(point / msrp - 1.0, pa.float64())
    alert_points = np.minimum(100.0, cfg.hype_points_per_alert * alerts)
    columns["hype_score"] = pa.array(
        np.clip(cfg.hype_popularity_weight * popularity + cfg.hype_alert_weight * alert_points, 0.0, 100.0),
        pa.float64(),
    )
    return columns


def _forecast(
    baseline: np.ndarray,
    trend_used: np.ndarray,
    cv: np.ndarray,
    widening: np.ndarray,
    horizon: HorizonConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Point forecast and low/high bounds of one horizon (see :class:`HorizonConfig`)."""
    point = np.maximum(0.0, baseline * (1.0 + (trend_used - 1.0) * horizon.trend_scale))
    halfwidth = point * (horizon.base_halfwidth + horizon.volatility_scale * cv) * widening
    return point, np.maximum(0.0, point - halfwidth), point + halfwidth
