"""The v1 stages end to end on one batch: scan → classifier → events → shapes → causes.

:func:`detect` turns baseline rows and masters into detected events with their calibrated
probability; :func:`describe` adds each event's incident shape, cluster and ranked cause. The
same functions serve training, evaluation and (through the dbt Python models) scoring, so what
is evaluated is what runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from mrs.minority.causes import CauseModel, cause_features, evidence
from mrs.minority.classifier import AnomalyClassifier, candidate_features, merge_events
from mrs.minority.scan import Cube, build_cube, candidates, scan
from mrs.minority.shapes import ClusterModel, shape_features


@dataclass
class Detections:
    cube: Cube
    candidates: np.ndarray
    features: pd.DataFrame
    probability: np.ndarray
    events: pd.DataFrame  # pair, sign, start, end, probability, candidate


def detect(baseline: pa.Table, stores: pa.Table, skus: pa.Table, classifier: AnomalyClassifier, threshold: float | None = None) -> Detections:
    """Detected events of one batch of baseline rows (every scored day of every pair)."""
    cube = build_cube(baseline, stores, skus)
    config = classifier.config.scan
    result = scan(cube, config)
    cands = candidates(result, config)
    features = candidate_features(result, cands, config)
    probability = classifier.probability(features)
    cut = classifier.threshold if threshold is None else threshold
    events = merge_events(cands, probability, probability >= cut)
    return Detections(cube, cands, features, probability, events)


def event_table(detections: Detections) -> pa.Table:
    """The events as (event_row, store_id, sku_id, window_start, window_end)."""
    cube, ev = detections.cube, detections.events
    n_k = cube.sku_ids.size
    pair = ev["pair"].to_numpy(np.int64)
    return pa.table(
        {
            "event_row": pa.array(np.arange(len(ev)), pa.int64()),
            "store_id": pa.array(cube.store_ids[pair // n_k].astype(str), pa.string()),
            "sku_id": pa.array(cube.sku_ids[pair % n_k].astype(str), pa.string()),
            "window_start": pa.array(cube.days[ev["start"].to_numpy(np.int64)], pa.date32()),
            "window_end": pa.array(cube.days[ev["end"].to_numpy(np.int64)], pa.date32()),
        }
    )


@dataclass
class Descriptions:
    shapes: pd.DataFrame
    clusters: pd.DataFrame
    evidence: pd.DataFrame
    cause_features: pd.DataFrame
    causes: pd.DataFrame


def describe(
    detections: Detections,
    *,
    campaigns: pa.Table,
    context_events: pa.Table,
    stores: pa.Table,
    skus: pa.Table,
    cluster_model: ClusterModel | None,
    cause_model: CauseModel | None,
) -> Descriptions:
    """Shape, cluster and ranked cause of every detected event (a model may be None in training)."""
    shapes = shape_features(detections.events, detections.cube)
    clusters = cluster_model.assign(shapes) if cluster_model is not None else pd.DataFrame(index=shapes.index)
    ev = evidence(event_table(detections), stores, skus, campaigns, context_events)
    features = cause_features(ev, shapes)
    causes = cause_model.rank(features) if cause_model is not None else pd.DataFrame(index=features.index)
    return Descriptions(shapes, clusters, ev, features, causes)
