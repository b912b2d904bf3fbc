"""cluster_model v1: unsupervised clustering of detected events by the shape of their residuals.

A pair's own daily residuals are noisy, so the shape is read from its *incident*: the detected
events of the same direction whose windows overlap and whose pairs share a store, a region × SKU
or a retailer × region × SKU slice (connected components). The incident's daily deviation
(actual - expected over expected, in its direction, summed over its members) over the eight days
up to its last day, divided by its peak, gives the shape features of the *run* of days around the
peak that stay above 0.4 of it:

* ``sign`` (+1 rise, -1 fall), ``log_duration`` (days in the run),
* ``ramp``: correlation of the run with time (ramps climb, steps and spikes stay flat),
* ``level``: the run's mean, ``onset``: its first day, both relative to the peak,
* ``open``: the run reaches the last scored day (the event is still going on),
* ``before``: the mean deviation before the run (near 0 for a clean onset).

HDBSCAN (scikit-learn) clusters the standardised features of the training worlds' detections;
each cluster keeps its centroid and a readable name derived from it ("short rise", "building
rise", "sustained fall", …). A new event is assigned to the nearest centroid; its membership is
``exp(-d² / 2)`` of its standardised distance, and an event farther than ``noise_distance``
from every centroid is labelled noise (cluster ``-1``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from mrs.minority.scan import Cube

SHAPE_FEATURES: tuple[str, ...] = ("sign", "log_duration", "ramp", "level", "onset", "open", "before")
RUN_LEVEL = 0.4
"""A day belongs to the run around the peak while its deviation is at least this share of the peak's."""
INCIDENT_SLICES: tuple[str, ...] = ("store", "region_sku", "group_sku")


@dataclass(frozen=True)
class ClusterConfig:
    """Hyperparameters of cluster_model v1."""

    min_cluster_size: int = 40
    min_samples: int = 5
    #: feature weights before clustering (the direction separates the families)
    weights: tuple[float, ...] = (3.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
    #: standardised distance beyond which an event is noise
    noise_distance: float = 3.0

    def to_dict(self) -> dict:
        return asdict(self)


def incidents(events: pd.DataFrame, cube: Cube) -> np.ndarray:
    """Incident id of every event (pair, sign, start, end): connected components of events of one
    direction whose windows overlap and whose pairs share an incident slice."""
    n = len(events)
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    pair = events["pair"].to_numpy(np.int64)
    sign = events["sign"].to_numpy(np.int64)
    start, end = events["start"].to_numpy(np.int64), events["end"].to_numpy(np.int64)
    for name in INCIDENT_SLICES:
        key = cube.slice_of[name][pair] * 2 + (sign > 0)
        order = np.lexsort((start, key))
        for a, b in zip(order[:-1], order[1:], strict=True):  # neighbours in (slice, start) order
            if key[a] == key[b] and start[b] <= end[a]:
                parent[find(b)] = find(a)
    return np.array([find(i) for i in range(n)], dtype=np.int64)


def shape_features(events: pd.DataFrame, cube: Cube, profile_days: int = 8) -> pd.DataFrame:
    """:data:`SHAPE_FEATURES` for every event, read from its incident's summed daily deviation
    over the ``profile_days`` days up to the incident's last day, normalised by its peak."""
    if events.empty:
        return pd.DataFrame(columns=list(SHAPE_FEATURES) + ["incident"])
    incident = incidents(events, cube)
    y = np.nan_to_num(cube.actual, nan=0.0)
    mu = np.nan_to_num(cube.expected, nan=0.0)
    n_d, k = cube.days.size, profile_days
    rows = []
    frame = events.assign(incident=incident)
    for inc, members in frame.groupby("incident", sort=True):
        end = int(members["end"].max())
        sign = int(members["sign"].iloc[0])
        pairs = members["pair"].to_numpy(np.int64)
        lo = max(0, end - k + 1)
        a, e = y[pairs, lo : end + 1].sum(axis=0), mu[pairs, lo : end + 1].sum(axis=0)
        profile = np.zeros(k)
        profile[k - (end + 1 - lo) :] = sign * (a - e) / np.maximum(e, 0.5)
        peak = max(float(profile.max()), 1e-6)
        norm = np.clip(profile / peak, -0.5, 1.0)
        # the run of days around the peak that stay above RUN_LEVEL of it
        j = int(np.argmax(norm))
        left = j - int(np.argmax(np.r_[norm[:j][::-1] < RUN_LEVEL, True]))
        right = j + int(np.argmax(np.r_[norm[j + 1 :] < RUN_LEVEL, True]))
        run = norm[left : right + 1]
        t = np.arange(run.size)
        ramp = float(np.corrcoef(t, run)[0, 1]) if run.size > 2 and run.std() > 0 else 0.0
        rows.append(
            {
                "incident": inc,
                "sign": float(sign),
                "log_duration": float(np.log(run.size)),
                "ramp": ramp,
                "level": float(run.mean()),
                "onset": float(run[0]),
                "open": float(end == n_d - 1 and right == k - 1),
                "before": float(norm[:left].mean()) if left > 0 else 0.0,
            }
        )
    per_incident = pd.DataFrame(rows).set_index("incident")
    return per_incident.loc[incident].reset_index()


def _name(centroid: dict[str, float]) -> str:
    way = "rise" if centroid["sign"] > 0 else "fall"
    days = float(np.exp(centroid["log_duration"]))
    if days < 3.0 and centroid["open"] < 0.5:
        return f"short-lived {way}"
    if centroid["ramp"] > 0.35:
        return f"building {way}" if way == "rise" else f"deepening {way}"
    if centroid["ramp"] < -0.35:
        return f"easing {way}"
    if days < 2.5:
        return f"short-lived {way}"
    return f"sustained {way}"


@dataclass
class ClusterModel:
    """Fitted cluster_model v1: scaling, centroids and names of the clusters."""

    config: ClusterConfig
    mean: np.ndarray
    scale: np.ndarray
    centroids: np.ndarray  # (C, F) in weighted standardised space
    names: list[str]

    @classmethod
    def fit(cls, features: pd.DataFrame, config: ClusterConfig) -> ClusterModel:
        from sklearn.cluster import HDBSCAN

        x = features[list(SHAPE_FEATURES)].to_numpy(np.float64)
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        z = (x - mean) / scale * np.asarray(config.weights)
        labels = HDBSCAN(min_cluster_size=config.min_cluster_size, min_samples=config.min_samples, copy=True).fit_predict(z)
        ids = sorted(set(labels.tolist()) - {-1})
        centroids = np.array([z[labels == c].mean(axis=0) for c in ids]) if ids else np.zeros((0, x.shape[1]))
        # stable ids: clusters ordered by their centroid (sign, duration, ramp), not by HDBSCAN's order
        raw = centroids / np.asarray(config.weights) * scale + mean if ids else centroids
        order = np.lexsort((raw[:, 2], raw[:, 1], raw[:, 0])) if ids else np.arange(0)
        centroids, raw = centroids[order], raw[order]
        names = [_name(dict(zip(SHAPE_FEATURES, r, strict=True))) for r in raw]
        # two clusters with one name get a number each, so a name always means one cluster
        counts: dict[str, int] = {}
        for n in names:
            counts[n] = counts.get(n, 0) + 1
        seen: dict[str, int] = {}
        for i, n in enumerate(names):
            if counts[n] > 1:
                seen[n] = seen.get(n, 0) + 1
                names[i] = f"{n} {seen[n]}"
        return cls(config=config, mean=mean, scale=scale, centroids=centroids, names=names)

    def assign(self, features: pd.DataFrame) -> pd.DataFrame:
        """cluster_id (-1: noise), cluster_name and membership in [0, 1] for every event."""
        if features.empty or not len(self.centroids):
            return pd.DataFrame({"cluster_id": np.full(len(features), -1), "cluster_name": "noise", "membership": 0.0})
        x = features[list(SHAPE_FEATURES)].to_numpy(np.float64)
        z = (x - self.mean) / self.scale * np.asarray(self.config.weights)
        d = np.sqrt(((z[:, None, :] - self.centroids[None, :, :]) ** 2).sum(axis=2))
        best = d.argmin(axis=1)
        dist = d[np.arange(len(best)), best]
        noise = dist > self.config.noise_distance
        return pd.DataFrame(
            {
                "cluster_id": np.where(noise, -1, best),
                "cluster_name": np.where(noise, "noise", np.asarray(self.names, dtype=object)[best]),
                "membership": np.where(noise, 0.0, np.exp(-(dist**2) / 2.0)),
            }
        )
