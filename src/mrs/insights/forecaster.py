"""The learned price forecaster of ``product_insights`` version 1: LightGBM across series, with
split-conformal bounds at a stated level.

**Inputs.** One row per product × as-of date with the product's last ``history_points`` daily
price points and their dates (``price_history`` / ``price_history_dates`` of
``int_price_windows``; :func:`panel_features` builds the same histories from any daily price panel, so the
forecaster trains and is evaluated on simulated worlds and real price series alike).

**Features** (:func:`history_features`) are scale-free, so one model serves a 20-dollar tin and a
500-dollar share: the log of the last price against the mean log price of five windows
(0-6, 7-13, 14-27, 28-55, 56-89 days back), the log-price slope over the last 28 and 90 days,
the per-day volatility of consecutive points, the root-mean-square change over exactly 7 and 28
days within the history (the empirical error of a "last price" forecast at each horizon), and
the history's depth, span and the age of its last point.

**Point forecast.** For each horizon (7 and 28 days) the target is ``log(price at as-of + h /
last price)``. Candidates: the last price itself, a damped 28-day drift, and LightGBM with the L2
and the L1 objective; :func:`fit` keeps the candidate with the lowest MAPE on the validation
rows and records every candidate's figures.

**Bounds** are split-conformal (Vovk; Lei et al. 2018) on a normalised score: a row's absolute
log error divided by its own scale ``s_h`` (the row's empirical RMS change over ``h`` days, or
the per-day volatility × √h when the history has too few such pairs). The score's
``level``-quantile on calibration rows (never used to fit or to choose) gives
``point × exp(± q × s_h)``. A last price older than the as-of date widens the scale by
``√((h + age) / h)`` (a random walk's spread grows with the square root of time). The scale is
multiplied by a learned *difficulty* (locally weighted conformal, Lei et al. 2018): a small
LightGBM model of the normalised error, fitted on the validation rows (:func:`fit_difficulty`), so
that a row whose history says the scale understates its error (a share's daily random walk
beside shelf prices that return to their level) gets wider bounds and the others narrower ones;
the calibration rows stay unseen, so the level holds.

**Fallbacks** (``price_source``): ``recent_prices`` when the history has at least ``min_points``
points; ``last_known_price`` (the last price, however old, with bounds calibrated on such short
histories and widened by its age) when it has fewer; ``msrp`` only with no price at all (bounds
from the spread of observed prices around MSRP in the training data).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

HORIZONS: dict[str, int] = {"next_week": 7, "next_month": 28}
"""Forecast horizons in days (the log's ``price_forecast_next_week`` / ``_next_month``)."""

FEATURE_NAMES: tuple[str, ...] = (
    "gap_0_6",
    "gap_7_13",
    "gap_14_27",
    "gap_28_55",
    "gap_56_89",
    "slope_28",
    "slope_90",
    "vol_1",
    "rms_7",
    "rms_28",
    "pairs_7",
    "pairs_28",
    "depth",
    "span_days",
    "last_age_days",
)
"""The columns of :func:`history_features`, in order."""

_WINDOWS: tuple[tuple[int, int], ...] = ((0, 6), (7, 13), (14, 27), (28, 55), (56, 89))

PRICE_SOURCES: tuple[str, ...] = ("recent_prices", "last_known_price", "msrp")
"""Where a v1 forecast's price comes from, in the order the fallbacks are taken."""

CANDIDATES: tuple[str, ...] = ("last_price", "damped_drift", "lightgbm_l2", "lightgbm_l1")


def default_lightgbm_params() -> dict[str, Any]:
    return {
        "learning_rate": 0.03,
        "num_leaves": 15,
        "min_data_in_leaf": 50,
        "feature_fraction": 0.9,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "seed": 11,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 1,
        "verbosity": -1,
    }


@dataclass(frozen=True)
class ForecasterConfig:
    """Hyperparameters of the v1 forecaster (recorded in the artefact's manifest)."""

    #: the coverage the bounds are calibrated to (0.8: 80 % of realised prices inside)
    bound_level: float = 0.8
    #: daily points of history per row (must match int_price_windows' price_history window)
    history_points: int = 90
    #: fewer points than this: the last known price, not the model, is the forecast
    min_points: int = 7
    #: pairs exactly h days apart needed to use the row's own RMS change as its scale
    scale_min_pairs: int = 5
    #: smallest scale (log units): a price that has never moved still may
    scale_floor: float = 0.003
    #: the damped-drift candidate extrapolates this share of the 28-day slope
    drift_damping: float = 0.5
    num_boost_round: int = 600
    early_stopping_rounds: int = 50
    #: bounds scaled by a learned difficulty per row (:func:`fit_difficulty`); False: by ``s_h`` alone
    learned_difficulty: bool = True
    difficulty_rounds: int = 150
    difficulty_params: dict[str, Any] = field(
        default_factory=lambda: {"objective": "l2", "num_leaves": 7, "min_data_in_leaf": 100, "learning_rate": 0.05}
    )
    candidates: tuple[str, ...] = CANDIDATES
    params: dict[str, Any] = field(default_factory=default_lightgbm_params)

    def __post_init__(self) -> None:
        if not 0.5 <= self.bound_level < 1:
            raise ValueError(f"bound_level must be in [0.5, 1), got {self.bound_level}")
        if self.min_points < 2 or self.history_points < self.min_points:
            raise ValueError("need 2 <= min_points <= history_points")
        unknown = sorted(set(self.candidates) - set(CANDIDATES))
        if unknown or "last_price" not in self.candidates:
            raise ValueError(f"candidates must include last_price and be among {CANDIDATES}, got {self.candidates}")


# ---- rows and features ----------------------------------------------------------------------------


def _ages(as_of: np.datetime64, dates: Sequence[Any]) -> np.ndarray:
    return (as_of.astype("datetime64[D]") - np.asarray(dates, dtype="datetime64[D]")).astype(np.int64)


def history_features(prices: Sequence[Sequence[float]], ages: Sequence[Sequence[int]]) -> np.ndarray:
    """The feature matrix (rows × :data:`FEATURE_NAMES`) of price histories given as lists of
    prices and their ages in days before the as-of date (any order; empty lists give NaNs)."""
    lengths = np.array([len(p) for p in prices], np.int64)
    row = np.repeat(np.arange(len(prices)), lengths)
    flat_prices = np.concatenate([np.asarray(p, float) for p in prices]) if len(prices) else np.zeros(0)
    flat_ages = np.concatenate([np.asarray(a, np.int64) for a in ages]) if len(ages) else np.zeros(0, np.int64)
    return flat_history_features(len(prices), row, flat_ages, flat_prices)


def flat_history_features(n_rows: int, row: np.ndarray, age: np.ndarray, price: np.ndarray, chunk_rows: int = 4096) -> np.ndarray:
    """:func:`history_features` of histories given as flat (row, age in days, price) triplets."""
    keep = np.isfinite(price) & (price > 0) & (age >= 0)
    row, age, logp = row[keep], age[keep].astype(np.int64), np.log(price[keep])
    out = np.full((n_rows, len(FEATURE_NAMES)), np.nan)
    col = {name: k for k, name in enumerate(FEATURE_NAMES)}
    depth = np.bincount(row, minlength=n_rows).astype(float)
    out[:, col["depth"]] = depth
    if row.size == 0:
        return out
    order = np.lexsort((-age, row))  # per row, oldest first
    row, age, logp = row[order], age[order], logp[order]
    # per-day volatility of consecutive points
    same = row[1:] == row[:-1]
    step = np.where(same, (logp[1:] - logp[:-1]) ** 2 / np.maximum(age[:-1] - age[1:], 1), 0.0)
    count = np.bincount(row[1:][same], minlength=n_rows)
    total = np.bincount(row[1:], weights=step, minlength=n_rows)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[:, col["vol_1"]] = np.where(count > 0, np.sqrt(total / np.maximum(count, 1)), np.nan)
    max_age = np.full(n_rows, -1)
    np.maximum.at(max_age, row, age)
    min_age = np.full(n_rows, np.iinfo(np.int64).max)
    np.minimum.at(min_age, row, age)
    has = depth > 0
    out[has, col["span_days"]] = (max_age - min_age)[has]
    out[has, col["last_age_days"]] = min_age[has]
    bounds = np.searchsorted(row, np.arange(n_rows + 1))
    for lo_row in range(0, n_rows, chunk_rows):
        hi_row = min(n_rows, lo_row + chunk_rows)
        a, b = bounds[lo_row], bounds[hi_row]
        if a == b:
            continue
        r, g_age, g_lp = row[a:b] - lo_row, age[a:b], logp[a:b]
        width = int(g_age.max()) + 1
        grid = np.full((hi_row - lo_row, width), np.nan)
        grid[r, g_age] = g_lp
        last = g_lp[np.r_[np.flatnonzero(np.diff(r)), r.size - 1]]  # youngest point of each row
        rows_with = np.unique(r)
        last_of = np.full(hi_row - lo_row, np.nan)
        last_of[rows_with] = last
        block = out[lo_row:hi_row]
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for j, (w_lo, w_hi) in enumerate(_WINDOWS):
                part = grid[:, w_lo : w_hi + 1]
                block[:, j] = last_of - np.nanmean(part, axis=1) if part.shape[1] else np.nan
            for name, span in (("slope_28", 27), ("slope_90", 89)):
                part = grid[:, : span + 1]
                x = -np.arange(part.shape[1], dtype=float)[None, :]
                m = np.isfinite(part)
                n = m.sum(axis=1)
                xm = np.where(m, x, 0.0).sum(axis=1) / np.maximum(n, 1)
                ym = np.where(m, part, 0.0).sum(axis=1) / np.maximum(n, 1)
                dx = np.where(m, x - xm[:, None], 0.0)
                sxx = (dx**2).sum(axis=1)
                sxy = (dx * np.where(m, part - ym[:, None], 0.0)).sum(axis=1)
                block[:, col[name]] = np.where((n >= 3) & (sxx > 0), sxy / np.where(sxx > 0, sxx, 1.0), np.nan)
            for h in (7, 28):
                if width > h:
                    diff = grid[:, :-h] - grid[:, h:]
                    ok = np.isfinite(diff)
                    pairs = ok.sum(axis=1)
                    mean_sq = np.where(ok, diff**2, 0.0).sum(axis=1) / np.maximum(pairs, 1)
                    block[:, col[f"rms_{h}"]] = np.where(pairs > 0, np.sqrt(mean_sq), np.nan)
                else:
                    pairs = np.zeros(hi_row - lo_row)
                block[:, col[f"pairs_{h}"]] = pairs
    return out


def panel_features(panel: pd.DataFrame, history_points: int) -> pd.DataFrame:
    """One row per series × observation day of a daily price panel (``series_id``, ``date``,
    ``price``; one price per series and day) with the features of its last ``history_points``
    points up to and including that day (the window ``int_price_windows`` builds), its last
    price and the realised prices exactly 7 and 28 days later (NaN when that day has no price)."""
    panel = panel.sort_values(["series_id", "date"], kind="stable").reset_index(drop=True)
    series = panel["series_id"].to_numpy()
    days = panel["date"].to_numpy("datetime64[D]").astype(np.int64)
    price = panel["price"].to_numpy(float)
    n = len(panel)
    start = np.r_[0, np.flatnonzero(series[1:] != series[:-1]) + 1]
    first = np.repeat(start, np.diff(np.r_[start, n]))  # each row's series start
    rows, ages, prices = [], [], []
    for offset in range(history_points):
        k = np.arange(n)
        j = k - offset
        ok = j >= first
        rows.append(k[ok])
        ages.append(days[k[ok]] - days[j[ok]])
        prices.append(price[j[ok]])
    features = flat_history_features(n, np.concatenate(rows), np.concatenate(ages), np.concatenate(prices))
    out = pd.DataFrame(features, columns=list(FEATURE_NAMES))
    out.insert(0, "series_id", series)
    out.insert(1, "as_of_date", panel["date"].to_numpy("datetime64[D]"))
    out["last_price"] = price
    key = pd.MultiIndex.from_arrays([series, days])
    lookup = pd.Series(price, index=key)
    for name, h in HORIZONS.items():
        out[f"actual_{name}"] = lookup.reindex(pd.MultiIndex.from_arrays([series, days + h])).to_numpy()
    return out


def row_ages(as_of_dates: Sequence[Any], history_dates: Sequence[Sequence[Any]]) -> list[np.ndarray]:
    """Each row's history dates as ages in days before its as-of date."""
    return [_ages(np.datetime64(d, "D"), h if h is not None else []) for d, h in zip(as_of_dates, history_dates, strict=True)]


# ---- the fitted model -----------------------------------------------------------------------------


@dataclass
class HorizonModel:
    """What one horizon keeps: the chosen candidate (and booster), the conformal quantiles."""

    horizon_days: int
    candidate: str
    booster_text: str | None
    #: conformal quantile of the normalised score for rows with enough history, per Mondrian bin
    #: (:func:`regime`)
    q_recent: list[float]
    #: conformal quantile of the normalised score of the last price on short histories
    q_last_known: float
    #: the scale (log units) of a short history's last-price error: median of its RMS changes
    short_history_scale: float
    #: every candidate's validation and hold-out figures
    candidate_metrics: dict[str, dict[str, float | list[float]]] = field(default_factory=dict)
    #: the chosen candidate's difficulty model (:func:`fit_difficulty`); None: every row's is 1 (an
    #: artefact trained before it existed, or ``learned_difficulty=False``)
    difficulty_booster_text: str | None = None


@dataclass
class FittedForecaster:
    config: ForecasterConfig
    horizons: dict[str, HorizonModel]
    #: level-quantile of |log(price / MSRP)| over the training products (the MSRP fallback's bound)
    q_msrp: float
    _boosters: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_text(self) -> str:
        """The artefact (``model.txt``): JSON with the configuration, boosters and quantiles."""
        return json.dumps(
            {
                "config": asdict(self.config) | {"candidates": list(self.config.candidates)},
                "q_msrp": self.q_msrp,
                "horizons": {name: asdict(h) for name, h in self.horizons.items()},
            },
            sort_keys=True,
        )

    @classmethod
    def from_text(cls, text: str) -> FittedForecaster:
        data = json.loads(text)
        cfg = dict(data["config"])
        cfg["candidates"] = tuple(cfg["candidates"])
        cfg.setdefault("learned_difficulty", False)  # an artefact trained before the difficulty model
        return cls(
            ForecasterConfig(**cfg),
            {name: HorizonModel(**h) for name, h in data["horizons"].items()},
            float(data["q_msrp"]),
        )

    def booster(self, name: str) -> Any:
        if name not in self._boosters:
            import lightgbm

            self._boosters[name] = lightgbm.Booster(model_str=self.horizons[name].booster_text)
        return self._boosters[name]

    def difficulty(self, name: str, features: np.ndarray) -> np.ndarray:
        text = self.horizons[name].difficulty_booster_text
        if not text or features.shape[0] == 0:
            return np.ones(features.shape[0])
        key = f"{name}:difficulty"
        if key not in self._boosters:
            import lightgbm

            self._boosters[key] = lightgbm.Booster(model_str=text)
        return difficulty_factor(self._boosters[key], features)

    def forecast(self, features: np.ndarray, last_price: np.ndarray, msrp: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Point forecasts and bounds per horizon and each row's price source.

        ``features`` from :func:`history_features`; ``last_price`` the latest known price (NaN
        without history); ``msrp`` the fallback price of rows with no history.
        """
        n = features.shape[0]
        depth = np.nan_to_num(features[:, FEATURE_NAMES.index("depth")])
        age = np.nan_to_num(features[:, FEATURE_NAMES.index("last_age_days")])
        source = np.where(depth >= self.config.min_points, "recent_prices", np.where(depth > 0, "last_known_price", "msrp"))
        if msrp is None:
            msrp = np.full(n, np.nan)
        out: dict[str, np.ndarray] = {"price_source": source}
        for name, model in self.horizons.items():
            step = _predict_step(model, features, self.config, lambda name=name: self.booster(name))
            recent = source == "recent_prices"
            step = np.where(recent, step, 0.0)
            scale = row_scale(features, model.horizon_days, self.config) * self.difficulty(name, features)
            scale = np.where(recent, scale, np.maximum(model.short_history_scale, self.config.scale_floor))
            scale = scale * np.sqrt((model.horizon_days + age) / model.horizon_days)
            q = np.where(recent, np.asarray(model.q_recent)[regime(features)], model.q_last_known)
            point = last_price * np.exp(step)
            low, high = point * np.exp(-q * scale), point * np.exp(q * scale)
            no_price = source == "msrp"
            point = np.where(no_price, msrp, point)
            low = np.where(no_price, msrp * math.exp(-self.q_msrp), low)
            high = np.where(no_price, msrp * math.exp(self.q_msrp), high)
            out[name], out[f"{name}_low"], out[f"{name}_high"] = point, low, high
        return out


REGIME_EDGES: tuple[float, ...] = (0.55, 0.8)
"""Mondrian bins of the conformal quantile, by the variance ratio ``rms_7 / (vol_1 × √7)``: about
1/√7 ≈ 0.38 for a price that jitters around a level, about 1 for a random walk (a share price).
Each bin gets its own quantile, so bounds calibrated on one kind of series hold on the other."""


def regime(features: np.ndarray) -> np.ndarray:
    """Each row's Mondrian bin (0 .. len(REGIME_EDGES)); rows without the ratio go to bin 0."""
    rms7 = features[:, FEATURE_NAMES.index("rms_7")]
    vol = features[:, FEATURE_NAMES.index("vol_1")] * math.sqrt(7)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(vol > 0, rms7 / np.where(vol > 0, vol, 1.0), 0.0)
    return np.digitize(np.nan_to_num(ratio), REGIME_EDGES)


def binned_quantiles(scores: np.ndarray, bins: np.ndarray, level: float, min_rows: int = 50) -> list[float]:
    """The conformal quantile per Mondrian bin (the pooled one for a bin with too few rows)."""
    pooled = conformal_quantile(scores, level)
    return [
        conformal_quantile(scores[bins == b], level) if np.sum(bins == b) >= min_rows else pooled
        for b in range(len(REGIME_EDGES) + 1)
    ]


def row_scale(features: np.ndarray, horizon_days: int, config: ForecasterConfig) -> np.ndarray:
    """Each row's scale of a last-price error over ``horizon_days``: its own RMS change over
    exactly that many days when it has ``scale_min_pairs`` such pairs, else the per-day volatility
    × √h (else the 7-day RMS × √(h/7)), floored at ``scale_floor``."""
    column = {7: "rms_7", 28: "rms_28"}[horizon_days]
    pairs = features[:, FEATURE_NAMES.index(f"pairs_{horizon_days}")]
    own = features[:, FEATURE_NAMES.index(column)]
    vol = features[:, FEATURE_NAMES.index("vol_1")] * math.sqrt(horizon_days)
    rms7 = features[:, FEATURE_NAMES.index("rms_7")] * math.sqrt(horizon_days / 7)
    fallback = np.where(np.isfinite(vol), vol, rms7)
    scale = np.where((pairs >= config.scale_min_pairs) & np.isfinite(own), own, fallback)
    return np.maximum(np.nan_to_num(scale, nan=config.scale_floor), config.scale_floor)


DIFFICULTY_RANGE: tuple[float, float] = (0.25, 4.0)
"""The learned difficulty widens or narrows a row's bounds by at most this factor."""


def difficulty_factor(booster: Any, features: np.ndarray) -> np.ndarray:
    """Each row's relative difficulty (1 = as hard as the average validation row), clipped to
    :data:`DIFFICULTY_RANGE`."""
    return np.clip(np.asarray(booster.predict(features), float), *DIFFICULTY_RANGE)


def fit_difficulty(features: np.ndarray, normalised_errors: np.ndarray, config: ForecasterConfig) -> Any:
    """LightGBM (L2) of a candidate's normalised absolute error on the validation rows, divided
    by its mean: where the features say the scale ``s_h`` understates the error (a share's price
    against a shelf price that returns to its level), the bounds widen; where it overstates it, they
    narrow. Fitted on the validation rows, so the calibration rows stay unseen."""
    import lightgbm as lgb

    target = normalised_errors / max(float(np.mean(normalised_errors)), 1e-9)
    params = dict(config.params) | config.difficulty_params
    return lgb.train(
        params, lgb.Dataset(features, target, feature_name=list(FEATURE_NAMES)), num_boost_round=config.difficulty_rounds
    )


def _predict_step(model: HorizonModel, features: np.ndarray, config: ForecasterConfig, booster: Any) -> np.ndarray:
    """The chosen candidate's predicted log change over the horizon."""
    return candidate_step(model.candidate, features, model.horizon_days, config, booster if model.booster_text else None)


def candidate_step(candidate: str, features: np.ndarray, horizon_days: int, config: ForecasterConfig, booster: Any) -> np.ndarray:
    if candidate == "last_price":
        return np.zeros(features.shape[0])
    if candidate == "damped_drift":
        slope = np.nan_to_num(features[:, FEATURE_NAMES.index("slope_28")])
        return config.drift_damping * slope * horizon_days
    if features.shape[0] == 0:
        return np.zeros(0)
    return np.asarray((booster() if callable(booster) else booster).predict(features), float)


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """The split-conformal quantile: the ⌈(n + 1)·level⌉-th smallest score (n scores)."""
    scores = np.sort(np.asarray(scores, float)[np.isfinite(scores)])
    if scores.size == 0:
        raise ValueError("no calibration scores")
    k = min(scores.size, int(math.ceil((scores.size + 1) * level)))
    return float(scores[k - 1])


# ---- metrics ----------------------------------------------------------------------------------------


def forecast_metrics(
    actual: np.ndarray, point: np.ndarray, low: np.ndarray, high: np.ndarray, last: np.ndarray, level: float
) -> dict[str, float]:
    """MAPE, the last price's MAPE, MASE against the last price (MAE / the last price's MAE),
    coverage and median width (relative to the point) of the bounds, and the width of the
    empirical ``level`` band of the last price's relative errors."""
    ok = np.isfinite(actual) & np.isfinite(point) & np.isfinite(last) & (actual > 0)
    a, p, lo, hi, lp = actual[ok], point[ok], low[ok], high[ok], last[ok]
    if a.size == 0:
        return {"rows": 0.0}
    naive_errors = a / lp - 1.0
    tail = (1.0 - level) / 2.0
    band = float(np.quantile(naive_errors, 1.0 - tail) - np.quantile(naive_errors, tail))
    naive_mae = float(np.mean(np.abs(a - lp)))
    return {
        "rows": float(a.size),
        "mape": float(np.mean(np.abs(p - a) / a)),
        "last_price_mape": float(np.mean(np.abs(lp - a) / a)),
        "mase_vs_last_price": float(np.mean(np.abs(p - a)) / naive_mae) if naive_mae > 0 else float("nan"),
        "coverage": float(np.mean((a >= lo) & (a <= hi))),
        "median_width": float(np.median((hi - lo) / p)),
        "last_price_band_width": band,
    }


# ---- fitting ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingRows:
    """Rows to fit on: features, last price, realised prices per horizon, and each row's role."""

    features: np.ndarray
    last_price: np.ndarray
    actual: dict[str, np.ndarray]
    #: ``train`` (fit), ``validation`` (early stopping, choice), ``calibration`` (conformal
    #: quantiles), ``holdout`` (reported only)
    role: np.ndarray

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, role: np.ndarray) -> TrainingRows:
        """From :func:`panel_features` output (or any frame with its columns)."""
        return cls(
            frame.loc[:, list(FEATURE_NAMES)].to_numpy(float),
            frame["last_price"].to_numpy(float),
            {n: frame[f"actual_{n}"].to_numpy(float) for n in HORIZONS},
            np.asarray(role),
        )


def time_roles(as_of: pd.Series, series: pd.Series, *, holdout_days: int = 14) -> np.ndarray:
    """Roles of one panel's rows. The hold-out is a time split: the as-of days from
    ``holdout_days`` + 28 days before the panel's last day on (its last ``holdout_days`` as-of
    days with a realised next-month price, and the next-week rows after them). Rows earlier than
    28 days before the hold-out (``purged`` in between, so no fitted target falls in its days) are
    split by series (a stable hash): 60 % ``train``, 20 % ``validation`` (early stopping, the
    choice of candidate), 20 % ``calibration`` (the conformal quantiles)."""
    days = pd.to_datetime(pd.Series(as_of)).to_numpy("datetime64[D]")
    horizon = max(HORIZONS.values())
    holdout_start = days.max() - np.timedelta64(horizon + holdout_days - 1, "D")
    bucket = np.array([_stable_bucket(str(s)) for s in pd.Series(series)])
    early = np.where(bucket < 6, "train", np.where(bucket < 8, "validation", "calibration"))
    return np.where(
        days >= holdout_start, "holdout", np.where(days > holdout_start - np.timedelta64(horizon + 1, "D"), "purged", early)
    )


def _stable_bucket(text: str) -> int:
    """0-9 from a stable hash of the series id."""
    import hashlib

    return hashlib.md5(text.encode()).digest()[0] % 10


def fit(
    rows: TrainingRows,
    config: ForecasterConfig | None = None,
    msrp_log_ratios: np.ndarray | None = None,
    evaluation_roles: tuple[str, ...] = ("holdout",),
) -> tuple[FittedForecaster, dict[str, Any]]:
    """Fit every candidate per horizon on the ``train`` rows (LightGBM early-stopped on
    ``validation``), keep the one with the lowest validation MAPE, calibrate its bounds on the
    ``calibration`` rows, and report figures on the ``holdout`` rows."""
    import lightgbm as lgb

    config = config or ForecasterConfig()
    f, last, role = rows.features, rows.last_price, rows.role
    depth = np.nan_to_num(f[:, FEATURE_NAMES.index("depth")])
    recent = depth >= config.min_points
    horizons: dict[str, HorizonModel] = {}
    report: dict[str, Any] = {"rows": {r: int(np.sum(role == r)) for r in np.unique(role)}, "horizons": {}}
    for name, h in HORIZONS.items():
        actual = rows.actual[name]
        target = np.log(actual / last)
        usable = np.isfinite(target) & recent
        train, val = usable & (role == "train"), usable & (role == "validation")
        calib = usable & (role == "calibration")
        if train.sum() < 50 or val.sum() < 20 or calib.sum() < 20:
            raise ValueError(
                f"{name}: too few rows with a realised price to train ({train.sum()}), validate "
                f"({val.sum()}) and calibrate ({calib.sum()}) on"
            )
        boosters: dict[str, Any] = {}
        steps: dict[str, np.ndarray] = {}
        for candidate in config.candidates:
            booster = None
            if candidate.startswith("lightgbm"):
                params = dict(config.params) | {"objective": "l1" if candidate.endswith("l1") else "l2"}
                booster = lgb.train(
                    params,
                    lgb.Dataset(f[train], target[train], feature_name=list(FEATURE_NAMES)),
                    num_boost_round=config.num_boost_round,
                    valid_sets=[lgb.Dataset(f[val], target[val], feature_name=list(FEATURE_NAMES))],
                    callbacks=[lgb.early_stopping(config.early_stopping_rounds, verbose=False)],
                )
                boosters[candidate] = booster
            steps[candidate] = candidate_step(candidate, f, h, config, booster)
        scale = row_scale(f, h, config)
        bins = regime(f)
        figures: dict[str, dict[str, float | list[float]]] = {}
        validation_mape: dict[str, float] = {}
        q_recent: dict[str, list[float]] = {}
        difficulty_boosters: dict[str, Any] = {}
        for candidate, step in steps.items():
            point = last * np.exp(step)
            row_width = scale
            if config.learned_difficulty:
                errors = np.abs(np.log(actual / point)) / scale
                difficulty_boosters[candidate] = fit_difficulty(f[val], errors[val], config)
                row_width = scale * difficulty_factor(difficulty_boosters[candidate], f)
            qs = binned_quantiles(
                np.abs(np.log(actual[calib] / point[calib])) / row_width[calib], bins[calib], config.bound_level
            )
            q = np.asarray(qs)[bins]
            lo, hi = point * np.exp(-q * row_width), point * np.exp(q * row_width)
            validation_mape[candidate] = float(np.mean(np.abs(point[val] - actual[val]) / actual[val]))
            q_recent[candidate] = qs
            figures[candidate] = {"validation_mape": validation_mape[candidate], "q_recent": qs}
            for r in evaluation_roles:
                m = usable & (role == r)
                for key, value in forecast_metrics(actual[m], point[m], lo[m], hi[m], last[m], config.bound_level).items():
                    figures[candidate][f"{r}_{key}"] = value
        chosen = min(steps, key=lambda c: (validation_mape[c], c))
        short = np.isfinite(target) & (depth > 0) & ~recent & np.isin(role, ["train", "validation", "calibration"])
        short_scale = float(np.median(np.abs(target[short]))) if short.sum() >= 20 else float(np.median(scale[calib]))
        short_scale = max(short_scale, config.scale_floor)
        q_short = (
            conformal_quantile(np.abs(target[short]) / short_scale, config.bound_level)
            if short.sum() >= 20
            else max(q_recent[chosen]) * 1.5
        )
        best = boosters.get(chosen)
        horizons[name] = HorizonModel(
            horizon_days=h,
            candidate=chosen,
            booster_text=best.model_to_string(num_iteration=best.best_iteration or None) if best is not None else None,
            q_recent=q_recent[chosen],
            q_last_known=q_short,
            short_history_scale=short_scale,
            candidate_metrics=figures,
            difficulty_booster_text=difficulty_boosters[chosen].model_to_string() if chosen in difficulty_boosters else None,
        )
        report["horizons"][name] = {"chosen": chosen, "candidates": figures, "short_history_rows": int(short.sum())}
    ratios = np.abs(np.asarray(msrp_log_ratios if msrp_log_ratios is not None else [], float))
    q_msrp = conformal_quantile(ratios, config.bound_level) if ratios.size >= 5 else 0.3
    return FittedForecaster(config, horizons, q_msrp), report
