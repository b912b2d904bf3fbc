"""Labels and figures for the learned minority-report stages on simulated worlds.

The narratives are labels here and nowhere else: a detected event is a true positive when it
overlaps, on one of a narrative's target pairs, that narrative's window in its direction. Event
figures are pair-level: precision over the detected events, recall over the narratives' target
pairs; a narrative is found when at least one of its target pairs is.

The peer is an Elementary-style z-score: a pair's day is anomalous when its units are at least
``z`` standard deviations from the mean of the ``training_days`` days before it; consecutive
anomalous days of one pair and direction are one event. It is scored on the same days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mrs.minority.scan import Cube
from mrs.minority.worlds import LabelledWorld, target_windows


@dataclass(frozen=True)
class TargetIndex:
    """The narratives' target pairs in cube coordinates (labels)."""

    pair: np.ndarray
    start: np.ndarray  # day offsets in the cube, inclusive
    end: np.ndarray
    sign: np.ndarray
    narrative: np.ndarray
    cluster: np.ndarray
    cause: np.ndarray


def target_index(world: LabelledWorld, cube: Cube) -> TargetIndex:
    t = target_windows(world).to_pandas()
    s_pos = {s: i for i, s in enumerate(cube.store_ids)}
    k_pos = {k: i for i, k in enumerate(cube.sku_ids)}
    pair = np.array([s_pos[s] * cube.sku_ids.size + k_pos[k] for s, k in zip(t.store_id, t.sku_id, strict=True)], dtype=np.int64)
    first = cube.days[0]
    start = (pd.to_datetime(t.window_start).values.astype("datetime64[D]") - first).astype(np.int64)
    end = (pd.to_datetime(t.window_end).values.astype("datetime64[D]") - first).astype(np.int64)
    return TargetIndex(
        pair=pair,
        start=start,
        end=end,
        sign=np.where(t.direction.values == "up", 1, -1),
        narrative=t.narrative_id.values.astype(str),
        cluster=t.cluster_name.values.astype(str),
        cause=t.cause_type.values.astype(str),
    )


def match_targets(pair: np.ndarray, start: np.ndarray, end: np.ndarray, sign: np.ndarray, targets: TargetIndex) -> np.ndarray:
    """For each (pair, start, end, sign) window, the index of the target it overlaps in the same
    direction (-1 for none). A pair is the target of at most one narrative."""
    out = np.full(pair.size, -1, dtype=np.int64)
    if not targets.pair.size or not pair.size:
        return out
    by_pair = {int(p): i for i, p in enumerate(targets.pair)}
    t = np.array([by_pair.get(int(p), -1) for p in pair], dtype=np.int64)
    has = t >= 0
    ti = np.where(has, t, 0)
    hit = has & (start <= targets.end[ti]) & (end >= targets.start[ti]) & (sign == targets.sign[ti])
    out[hit] = t[hit]
    return out


@dataclass(frozen=True)
class EventFigures:
    detected: int
    true_positive_events: int
    targets: int
    targets_found: int
    narratives: int
    narratives_found: int

    @property
    def precision(self) -> float:
        return self.true_positive_events / self.detected if self.detected else 0.0

    @property
    def recall(self) -> float:
        return self.targets_found / self.targets if self.targets else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def narrative_recall(self) -> float:
        return self.narratives_found / self.narratives if self.narratives else 0.0

    def __add__(self, other: EventFigures) -> EventFigures:
        return EventFigures(*(a + b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple[int, ...]:
        return (
            self.detected,
            self.true_positive_events,
            self.targets,
            self.targets_found,
            self.narratives,
            self.narratives_found,
        )

    def as_dict(self) -> dict[str, float]:
        return {
            "events_detected": self.detected,
            "event_precision": round(self.precision, 4),
            "event_recall": round(self.recall, 4),
            "event_f1": round(self.f1, 4),
            "narrative_recall": round(self.narrative_recall, 4),
        }


def event_figures(events: pd.DataFrame, targets: TargetIndex) -> tuple[EventFigures, np.ndarray]:
    """Figures of detected events (pair, sign, start, end) against the targets, and each event's matched target."""
    matched = match_targets(
        events["pair"].to_numpy(np.int64),
        events["start"].to_numpy(np.int64),
        events["end"].to_numpy(np.int64),
        events["sign"].to_numpy(np.int64),
        targets,
    )
    found = np.unique(matched[matched >= 0])
    narratives = np.unique(targets.narrative)
    return (
        EventFigures(
            detected=len(events),
            true_positive_events=int((matched >= 0).sum()),
            targets=int(targets.pair.size),
            targets_found=int(found.size),
            narratives=int(narratives.size),
            narratives_found=int(np.unique(targets.narrative[found]).size),
        ),
        matched,
    )


def zscore_peer_events(
    cube: Cube, first_day: int, *, z: float = 3.0, training_days: int = 28, units: np.ndarray | None = None
) -> pd.DataFrame:
    """The Elementary-style peer: per pair and day from ``first_day``, ``|units - mean| >= z * sd``
    over the ``training_days`` days before; runs of flagged days as events (pair, sign, start, end).

    ``units`` (P, days) is the full daily history whose last ``cube.days`` days are the cube's; by
    default the cube's own actual units (then the first ``training_days`` days cannot be scored).
    """
    history = np.nan_to_num(cube.actual if units is None else units, nan=0.0)
    offset = history.shape[1] - cube.days.size
    csum = np.concatenate([np.zeros((history.shape[0], 1)), np.cumsum(history, axis=1)], axis=1)
    csq = np.concatenate([np.zeros((history.shape[0], 1)), np.cumsum(history**2, axis=1)], axis=1)
    flags = np.zeros((history.shape[0], cube.days.size), dtype=np.int64)
    for d in range(max(first_day, training_days - offset), cube.days.size):
        h = d + offset
        n = training_days
        mean = (csum[:, h] - csum[:, h - n]) / n
        var = (csq[:, h] - csq[:, h - n]) / n - mean**2
        sd = np.sqrt(np.maximum(var * n / (n - 1), 0.0))
        score = np.divide(history[:, h] - mean, sd, out=np.zeros_like(mean), where=sd > 0)
        flags[:, d] = np.where(score >= z, 1, np.where(score <= -z, -1, 0))
    rows = []
    for sign in (-1, 1):
        f = np.concatenate([np.zeros((flags.shape[0], 1), bool), flags == sign, np.zeros((flags.shape[0], 1), bool)], axis=1)
        change = np.diff(f.astype(np.int8), axis=1)
        p_start, d_start = np.nonzero(change == 1)
        p_end, d_end = np.nonzero(change == -1)
        rows.append(pd.DataFrame({"pair": p_start, "sign": sign, "start": d_start, "end": d_end - 1}))
    return pd.concat(rows, ignore_index=True)
