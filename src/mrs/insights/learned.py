"""The learned product-insights runner (``product_insights`` version 1 and later trained versions).

A :class:`LearnedModelRunner` scores the same feature rows (``product_insight_inputs``) into the
same log as the heuristic, through the same :class:`~mrs.insights.runner.ModelRunner` interface:
the price forecasts and their bounds come from the trained forecaster
(:mod:`mrs.insights.forecaster`, LightGBM across series with split-conformal bounds at the
artefact's stated level), read from the row's ``price_history`` / ``price_history_dates``.

* ``baseline_price`` is the latest known price (``baseline_source`` ``latest_price``), or the MSRP
  only when the product has no price at all (``msrp_fallback_reason`` ``no_price_history``);
* ``price_source`` says which fallback answered (``recent_prices``, ``last_known_price``,
  ``msrp``), ``price_age_days`` how old the price is, ``bound_level`` the bounds' coverage level,
  ``forecast_method`` the candidate the training chose per horizon;
* ``trend_ratio_used`` is the next-week forecast over the latest price (the change it implies);
* ``forecast_confidence`` is 1 minus the relative width of the next-week bounds, clipped to
  [0, 1]: a narrow calibrated band is a confident forecast;
* sellout risk, discount, ROI and hype are computed as version 0 does
  (:func:`mrs.insights.heuristic.market_signals`) from the v1 forecasts, plus a rising-price term
  of the risk (:class:`LearnedSignalConfig`). The simulator emits no stock-outs, so the sellout
  risk has no ground truth and is **unscored**.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mrs.insights.config import HeuristicConfig
from mrs.insights.forecaster import HORIZONS, FittedForecaster, flat_history_features
from mrs.insights.heuristic import _floats, _keys, _nullable, market_signals, validate_features
from mrs.insights.runner import FeatureSource, InsightsInputError, ModelRunner
from mrs.insights.schema import FEATURES_TABLE, INSIGHT_SCHEMA, MODEL_NAME

HISTORY_COLUMNS = ("price_history", "price_history_dates")


@dataclass(frozen=True)
class LearnedSignalConfig:
    """The learned runner's additions to the market signals (not learned: there is no ground truth)."""

    #: sellout risk added per unit of expected rise over the next month (0.5: +5 points for +10 %)
    risk_per_expected_rise: float = 0.5


def history_triplets(table: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows' price histories as flat (row, age in days before the as-of date, price)."""
    missing = [c for c in HISTORY_COLUMNS if c not in table.column_names]
    if missing:
        raise InsightsInputError(f"{FEATURES_TABLE}: the learned runner needs column(s) {missing}")
    prices = table.column("price_history").combine_chunks()
    dates = table.column("price_history_dates").combine_chunks()
    if pc.any(pc.not_equal(pc.list_value_length(prices), pc.list_value_length(dates))).as_py():
        mask = pc.not_equal(pc.list_value_length(prices), pc.list_value_length(dates))
        raise InsightsInputError(
            f"{FEATURES_TABLE}.price_history_dates: not one date per price; offending rows: {_keys(table, mask)}"
        )
    row = pc.list_parent_indices(prices).to_numpy(zero_copy_only=False).astype(np.int64)
    price = pc.list_flatten(prices).to_numpy(zero_copy_only=False).astype(float)
    day = pc.list_flatten(dates).cast(pa.date32()).to_numpy(zero_copy_only=False).astype("datetime64[D]")
    as_of = table.column("as_of_date").to_numpy(zero_copy_only=False).astype("datetime64[D]")
    age = (as_of[row] - day).astype(np.int64) if row.size else np.zeros(0, np.int64)
    if (age < 0).any():
        bad = np.zeros(table.num_rows, bool)
        bad[row[age < 0]] = True
        raise InsightsInputError(
            f"{FEATURES_TABLE}.price_history_dates: a day after the as-of date; offending rows: {_keys(table, bad)}"
        )
    return row, age, price


class LearnedModelRunner(ModelRunner):
    """Price forecasts with calibrated bounds from a trained forecaster."""

    def __init__(
        self,
        forecaster: FittedForecaster,
        version: str,
        features: FeatureSource | None = None,
        signals: LearnedSignalConfig | None = None,
        market: HeuristicConfig | None = None,
    ) -> None:
        super().__init__(features)
        self.model_name = MODEL_NAME
        self.model_version = str(version)
        self.forecaster = forecaster
        self.signals = signals or LearnedSignalConfig()
        self.market = market or HeuristicConfig()

    @classmethod
    def from_artifact(
        cls, artifact_dir: Path, version: str, expected_sha256: str | None = None, features: FeatureSource | None = None
    ) -> LearnedModelRunner:
        """The runner of a trained artefact (``model.txt``), checked against ``expected_sha256``."""
        from mrs.lifecycle.artifacts import MANIFEST_FILE, read_manifest, read_verified_model

        sha = expected_sha256 or read_manifest(Path(artifact_dir) / MANIFEST_FILE).artifact_sha256
        return cls(FittedForecaster.from_text(read_verified_model(str(artifact_dir), sha)), version, features)

    def predict_batch(self, features: pa.Table) -> pa.Table:
        table = validate_features(features, needs_recent_mean=False)
        row, age, price = history_triplets(features)
        n = table.num_rows
        matrix = flat_history_features(n, row, age, price)
        msrp = _floats(table, "msrp")
        # the latest known price: the youngest point of the history
        last = np.full(n, np.nan)
        if row.size:
            order = np.lexsort((age, row))
            first = np.r_[True, row[order][1:] != row[order][:-1]]
            last[row[order][first]] = price[order][first]
        out = self.forecaster.forecast(matrix, last, msrp)
        source = out["price_source"]
        no_price = source == "msrp"
        depth = table.column("history_depth").to_numpy(zero_copy_only=False).astype(np.int64)
        alerts = table.column("alerts_last_7d").to_numpy(zero_copy_only=False).astype(np.float64)
        popularity = table.column("popularity_score").to_numpy(zero_copy_only=False).astype(np.float64)
        baseline = np.where(no_price, msrp, last)
        week = out["next_week"]
        methods = {name: self.forecaster.horizons[name].candidate for name in HORIZONS}
        method = np.where(
            no_price,
            "msrp",
            np.where(source == "last_known_price", "last_price", f"week:{methods['next_week']},month:{methods['next_month']}"),
        )
        columns: dict[str, pa.Array] = {
            "product_id": table.column("product_id"),
            "as_of_date": table.column("as_of_date"),
            "msrp": pa.array(msrp, pa.float64()),
            "current_price": _nullable(_floats(table, "latest_price")),
            "history_depth": pa.array(depth, pa.int32()),
            "popularity_score": pa.array(popularity.astype(np.int32), pa.int32()),
            "alert_velocity": pa.array(alerts.astype(np.int32), pa.int32()),
            "baseline_price": pa.array(baseline, pa.float64()),
            "baseline_source": pa.array(np.where(no_price, "msrp", "latest_price").tolist(), pa.string()),
            "msrp_fallback_reason": pa.array([("no_price_history" if x else None) for x in no_price.tolist()], pa.string()),
            "trend_ratio_observed": _nullable(_floats(table, "trend_ratio")),
            "trend_ratio_used": pa.array(week / baseline, pa.float64()),
        }
        forecasts = {}
        for name in HORIZONS:
            forecasts[name] = out[name]
            columns[f"price_forecast_{name}"] = pa.array(out[name], pa.float64())
            columns[f"price_forecast_{name}_low"] = pa.array(out[f"{name}_low"], pa.float64())
            columns[f"price_forecast_{name}_high"] = pa.array(out[f"{name}_high"], pa.float64())
        width = (out["next_week_high"] - out["next_week_low"]) / np.where(week > 0, week, 1.0)
        columns["forecast_confidence"] = pa.array(np.clip(1.0 - width, 0.0, 1.0), pa.float64())
        rise = np.where(no_price, 0.0, np.maximum(0.0, out["next_month"] / baseline - 1.0))
        columns.update(
            market_signals(
                self.market,
                msrp,
                _floats(table, "latest_price"),
                forecasts,
                popularity,
                alerts,
                extra_risk=self.signals.risk_per_expected_rise * rise,
            )
        )
        youngest = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(youngest, row, age)
        columns["price_source"] = pa.array(source.tolist(), pa.string())
        columns["price_age_days"] = pa.array(
            [None if y == np.iinfo(np.int64).max else int(y) for y in youngest.tolist()], pa.int32()
        )
        columns["bound_level"] = pa.array(np.full(n, self.forecaster.config.bound_level), pa.float64())
        columns["forecast_method"] = pa.array(method.tolist(), pa.string())
        return pa.Table.from_arrays([columns[f.name] for f in INSIGHT_SCHEMA], schema=INSIGHT_SCHEMA)
