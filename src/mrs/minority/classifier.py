"""anomaly_classifier v1: a supervised classifier over the scan's candidate events.

Each candidate (a pair window from :mod:`mrs.minority.scan`) gets features from the counts — its
own tail score, volume, relative change, daily consistency, onset and offset — and from the
slices above it: how surprising the slice is over the same window, how many of the slice's other
pairs move the same way, and the pair's share of the slice's residual. A gradient-boosted tree
model (scikit-learn ``HistGradientBoostingClassifier``) trained on labelled candidates from many
simulated worlds (a candidate is an anomaly when it overlaps a narrative's window on one of the
narrative's target pairs, in the narrative's direction) scores them; an isotonic calibration
fitted on validation worlds turns the score into a probability (``model_confidence_metric``);
the operating threshold is the one that maximises pooled event F1 on the validation worlds.

Kept candidates of one pair that overlap are merged into one event (a run of days, with its
start, end and peak), which is what ``detection_log`` records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd

from mrs.minority.scan import SLICES, Scan, ScanConfig, tail_z

if TYPE_CHECKING:  # pragma: no cover
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.isotonic import IsotonicRegression

PAIR_FEATURES: tuple[str, ...] = (
    "z_tail",
    "z_gauss",
    "log_ratio",
    "relative_change",
    "log_expected_per_day",
    "length_days",
    "daily_z_max",
    "daily_z_min",
    "daily_share_beyond_1",
    "z_day_before",
    "z_day_after",
    "dispersion",
)
SLICE_FEATURES: tuple[str, ...] = ("z", "z_rest", "co_moving", "co_moving_share", "residual_share", "log_size")
FEATURES: tuple[str, ...] = PAIR_FEATURES + tuple(f"{s}_{f}" for s in SLICES for f in SLICE_FEATURES)
"""The classifier's feature columns, in order (their direction: positive = in the event's sign)."""


@dataclass(frozen=True)
class ClassifierConfig:
    """Hyperparameters of anomaly_classifier v1 (the scan's and the booster's)."""

    scan: ScanConfig = field(default_factory=ScanConfig)
    max_iter: int = 300
    learning_rate: float = 0.05
    max_leaf_nodes: int = 15
    min_samples_leaf: int = 40
    l2_regularization: float = 1.0
    random_state: int = 0
    #: the operating threshold is chosen among those that find at least this share of the
    #: validation worlds' narratives (all sizes pooled); 0 in version 1, which maximised F1 alone
    min_narrative_recall: float = 0.9

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> ClassifierConfig:
        values = dict(values)
        return cls(scan=ScanConfig(**values.pop("scan")), **values)


def candidate_features(result: Scan, cands: np.ndarray, config: ScanConfig) -> pd.DataFrame:
    """One row of :data:`FEATURES` per candidate (pair, start, length, sign, source)."""
    p, d, length, sign = (cands[:, i] for i in range(4))
    sign = sign.astype(np.float64)
    li = length - 1
    pw = result.pair.cells(p, d, length)
    y, m, v = pw.actual, pw.expected, pw.variance
    out: dict[str, np.ndarray] = {
        "z_tail": pw.z * sign,
        "z_gauss": (y - m) / np.sqrt(np.maximum(v, 1e-9)) * sign,
        "log_ratio": np.log((y + 0.5) / (m + 0.5)) * sign,
        "relative_change": (y - m) / np.maximum(m, 0.5) * sign,
        "log_expected_per_day": np.log1p(m / length),
        "length_days": length.astype(np.float64),
    }
    n_d = result.daily_z.shape[1]
    offsets = np.arange(config.max_event_days)
    in_window = offsets[None, :] < length[:, None]
    cols = np.minimum(d[:, None] + offsets[None, :], n_d - 1)
    daily = result.daily_z[p[:, None], cols] * sign[:, None]
    out["daily_z_max"] = np.where(in_window, daily, -np.inf).max(axis=1)
    out["daily_z_min"] = np.where(in_window, daily, np.inf).min(axis=1)
    out["daily_share_beyond_1"] = ((daily >= 1) & in_window).sum(axis=1) / length
    before = d - 1
    after = d + length
    out["z_day_before"] = np.where(before >= 0, result.daily_z[p, np.maximum(before, 0)] * sign, 0.0)
    out["z_day_after"] = np.where(after < n_d, result.daily_z[p, np.minimum(after, n_d - 1)] * sign, 0.0)
    out["dispersion"] = result.dispersion[p, d]
    own_co = pw.z * sign >= config.co_moving_z  # the pair itself is not its own co-mover
    for name in SLICES:
        sl = result.slices[name]
        g = result.cube.slice_of[name][p]
        ys, ms, vs = sl.actual[g, d, li], sl.expected[g, d, li], sl.variance[g, d, li]
        size = result.slice_sizes[name][g].astype(np.float64)
        co = result.co_moving[name][g, d, li, (sign > 0).astype(np.int64)] - own_co
        rest_y, rest_m, rest_v = ys - y, ms - m, vs - v
        out[f"{name}_z"] = sl.z[g, d, li] * sign
        out[f"{name}_z_rest"] = tail_z(rest_y, rest_m, rest_v, where=size > 1) * sign
        out[f"{name}_co_moving"] = co
        out[f"{name}_co_moving_share"] = np.where(size > 1, co / np.maximum(size - 1, 1), 0.0)
        total = ys - ms
        out[f"{name}_residual_share"] = np.where(np.abs(total) > 1e-9, (y - m) / np.where(np.abs(total) > 1e-9, total, 1.0), 0.0)
        out[f"{name}_log_size"] = np.log(size)
    frame = pd.DataFrame(out, columns=list(FEATURES))
    return frame.replace([np.inf, -np.inf], 0.0).fillna(0.0)


def merge_events(cands: np.ndarray, probability: np.ndarray, keep: np.ndarray) -> pd.DataFrame:
    """Kept candidates of one pair and direction that overlap or touch, as one event each:
    pair, sign, start, end (day offsets, inclusive), probability (the largest of its windows)
    and the candidate row of that largest window."""
    rows = np.flatnonzero(keep)
    frame = pd.DataFrame(
        {
            "pair": cands[rows, 0],
            "sign": cands[rows, 3],
            "start": cands[rows, 1],
            "end": cands[rows, 1] + cands[rows, 2] - 1,
            "probability": probability[rows],
            "candidate": rows,
        }
    ).sort_values(["pair", "sign", "start", "end"], kind="stable")
    if frame.empty:
        return frame.assign(event=pd.Series(dtype=np.int64))
    previous_end = frame.groupby(["pair", "sign"])["end"].cummax().groupby([frame["pair"], frame["sign"]]).shift()
    new_event = previous_end.isna() | (frame["start"] > previous_end + 1)
    frame["event"] = new_event.cumsum() - 1
    best = frame.loc[frame.groupby("event")["probability"].idxmax(), ["event", "candidate", "probability"]]
    events = frame.groupby("event").agg(
        pair=("pair", "first"), sign=("sign", "first"), start=("start", "min"), end=("end", "max")
    )
    return events.join(best.set_index("event")).reset_index(drop=True)


class BoosterConfig(Protocol):
    """The booster fields a config carries (:class:`ClassifierConfig`, ``causes.CauseConfig``)."""

    @property
    def max_iter(self) -> int: ...

    @property
    def learning_rate(self) -> float: ...

    @property
    def max_leaf_nodes(self) -> int: ...

    @property
    def min_samples_leaf(self) -> int: ...

    @property
    def l2_regularization(self) -> float: ...

    @property
    def random_state(self) -> int: ...


def gradient_boosting(config: BoosterConfig) -> HistGradientBoostingClassifier:
    """A scikit-learn HistGradientBoostingClassifier from a config's booster fields (seeded, no
    early stopping, so a fit is a pure function of its data and configuration)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=config.max_iter,
        learning_rate=config.learning_rate,
        max_leaf_nodes=config.max_leaf_nodes,
        min_samples_leaf=config.min_samples_leaf,
        l2_regularization=config.l2_regularization,
        random_state=config.random_state,
        early_stopping=False,
    )


@dataclass
class AnomalyClassifier:
    """The fitted v1 classifier: booster, isotonic calibration and operating threshold."""

    config: ClassifierConfig
    booster: HistGradientBoostingClassifier
    calibration: IsotonicRegression | None = None
    threshold: float = 0.5

    @classmethod
    def fit(cls, features: pd.DataFrame, labels: np.ndarray, config: ClassifierConfig) -> AnomalyClassifier:
        booster = gradient_boosting(config)
        booster.fit(features[list(FEATURES)].to_numpy(), np.asarray(labels, dtype=np.int64))
        return cls(config=config, booster=booster)

    def raw_score(self, features: pd.DataFrame) -> np.ndarray:
        if features.empty:
            return np.zeros(0)
        return self.booster.predict_proba(features[list(FEATURES)].to_numpy())[:, 1]

    def calibrate(self, features: pd.DataFrame, labels: np.ndarray) -> None:
        """Isotonic map from the booster's score to a probability, fitted on validation candidates."""
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        iso.fit(self.raw_score(features), np.asarray(labels, dtype=np.float64))
        self.calibration = iso

    def probability(self, features: pd.DataFrame) -> np.ndarray:
        score = self.raw_score(features)
        if self.calibration is None or not score.size:
            return score
        # a strictly increasing tie-break keeps the ranking of the booster inside isotonic plateaus
        return np.clip(self.calibration.predict(score) * (1 - 1e-6) + 1e-6 * score, 0.0, 1.0)
