"""Clustering (the MRCL, ``cluster_log``): ``feature_vector_cluster_match``.

Every current detection gets a shape feature vector: its daily residual curve over the window
(actual - expected) divided by its largest absolute value and resampled to a fixed number of
points, then its peak position, duration and sign. Version "0" of ``cluster_model`` (the MVP)
assigns the detection its narrative's cluster name, a deterministic lookup, and computes how
well its shape fits the cluster: the cosine similarity of its vector to the cluster prototype,
the mean vector of the cluster's current members. A cluster of one is its own prototype.

Because the prototype depends on every member, a row's input fingerprint covers the cluster's
membership: when a member is added, removed or re-detected, the whole cluster is re-scored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mrs.logs import ModelCard, RunContext, finalize, unlogged, with_log_ids
from mrs.minority.config import ClusteringConfig, MinorityConfigError
from mrs.minority.detection import current_detections_sql
from mrs.minority.relations import sql_literal, sql_over
from mrs.minority.schemas import CLUSTER_LOG, with_unset_columns
from mrs.minority.segments import Segments

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

CLUSTER_MODEL_VERSIONS: dict[str, ClusteringConfig] = {"0": ClusteringConfig()}
"""The configuration of each built-in cluster_model version."""


def cluster_inputs_sql(classifier_version: str, baseline_version: str) -> str:
    """SQL over ``detection_log`` and ``narratives``: one row per current detection with its
    narrative's cluster, the cluster's size and a fingerprint of its membership."""
    return f"""
    with detections as (
        {current_detections_sql(classifier_version, baseline_version)}
    ),
    members as (
        select
            detections.anomaly_id,
            detections.log_id as detection_log_id,
            detections.narrative_id,
            narratives.cluster_name,
            detections.daily_actual_units,
            detections.daily_expected_units
        from detections
        left join narratives on narratives.narrative_id = detections.narrative_id
    ),
    clusters as (
        select
            cluster_name,
            cast(count(*) as integer) as cluster_size,
            md5(string_agg(detection_log_id, ',' order by detection_log_id)) as cluster_members_fingerprint
        from members
        group by cluster_name
    )
    select members.*, clusters.cluster_size, clusters.cluster_members_fingerprint
    from members
    left join clusters on clusters.cluster_name is not distinct from members.cluster_name
    """


def shape_vectors(
    daily_actual: pa.ChunkedArray | pa.Array, daily_expected: pa.ChunkedArray | pa.Array, config: ClusteringConfig
) -> dict[str, np.ndarray]:
    """The shape feature vector of each window (rows of a matrix) and its named parts.

    ``curve``: residuals / max |residual|, linearly resampled to ``curve_points`` points (a
    one-day window is a flat curve); ``peak_position``: centre of the largest |residual| day as a
    fraction of the window; ``duration``: window days / ``max_duration_days``; ``sign``: +1 when
    the window's residuals sum to >= 0, else -1. ``vector = curve ++ [peak_position, duration, sign]``.
    """
    actual, expected = Segments.of(daily_actual), Segments.of(daily_expected)
    if not np.array_equal(actual.lengths, expected.lengths) or np.any(actual.lengths == 0):
        raise MinorityConfigError("cluster_log: every detection needs equally long, non-empty daily curves")
    residual = actual.values - expected.values
    scale = actual.max(np.abs(residual))
    scale = np.where(scale > 0, scale, 1.0)
    normalised = residual / scale[actual.row]

    # resample every curve onto u = 0 .. 1 (curve_points points) by linear interpolation
    lengths = actual.lengths
    u = np.linspace(0.0, 1.0, config.curve_points)
    position = u[None, :] * (lengths[:, None] - 1)
    left = np.floor(position).astype(np.int64)
    right = np.minimum(left + 1, lengths[:, None] - 1)
    weight = position - left
    base = actual.starts[:, None]
    curve = normalised[base + left] * (1 - weight) + normalised[base + right] * weight

    peak = actual.argmax(np.abs(residual))
    peak_position = (peak + 0.5) / lengths
    duration = lengths / config.max_duration_days
    sign = np.where(actual.sum(residual) >= 0, 1, -1).astype(np.int8)
    vector = np.column_stack([curve, peak_position, duration, sign.astype(np.float64)])
    return {"vector": vector, "peak_position": peak_position, "duration_days": lengths, "sign": sign}


def cosine_similarity(vectors: np.ndarray, prototypes: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two matrices of the same shape (0 where either row is zero)."""
    dot = np.einsum("ij,ij->i", vectors, prototypes)
    norms = np.linalg.norm(vectors, axis=1) * np.linalg.norm(prototypes, axis=1)
    return np.divide(dot, norms, out=np.zeros_like(dot), where=norms > 0)


def cluster_prototypes(vectors: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """For every row, the mean vector of the rows in its cluster (its cluster's prototype)."""
    names, index = np.unique(clusters, return_inverse=True)
    sums = np.zeros((names.size, vectors.shape[1]))
    np.add.at(sums, index, vectors)
    counts = np.bincount(index, minlength=names.size)[:, None]
    return (sums / counts)[index]


def predict_batch(inputs: pa.Table, config: ClusteringConfig) -> pa.Table:
    """``feature_vector_cluster_match`` over a batch that holds every member of each cluster in it."""
    shapes = shape_vectors(inputs.column("daily_actual_units"), inputs.column("daily_expected_units"), config)
    clusters = np.asarray(inputs.column("cluster_name").to_pylist(), dtype=object)
    similarity = cosine_similarity(shapes["vector"], cluster_prototypes(shapes["vector"], clusters))
    vectors = shapes["vector"]
    return with_unset_columns(pa.table(
        {
            "anomaly_id": inputs.column("anomaly_id"),
            "detection_log_id": inputs.column("detection_log_id"),
            "narrative_id": inputs.column("narrative_id"),
            "cluster_name": inputs.column("cluster_name"),
            "similarity_score": pa.array(np.clip(similarity, -1.0, 1.0)),
            "cluster_size": inputs.column("cluster_size"),
            "shape_vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), vectors.shape[1]).cast(
                pa.list_(pa.float64())
            ),
            "peak_position": pa.array(shapes["peak_position"]),
            "duration_days": pa.array(shapes["duration_days"], pa.int32()),
            "residual_sign": pa.array(shapes["sign"], pa.int8()),
        }
    ), CLUSTER_LOG)  # version 0 has no value for the columns version 1 added


def score_clusters(
    con: "duckdb.DuckDBPyConnection",
    *,
    detection_log: "duckdb.DuckDBPyRelation",
    narratives: "duckdb.DuckDBPyRelation",
    card: ModelCard,
    classifier_version: str,
    baseline_version: str,
    log_relation: str | None,
    run: RunContext | None = None,
) -> pa.Table:
    """The ``cluster_log`` step: new cluster rows for the current detections.

    Rows are fingerprinted in the warehouse; only the clusters with a row not logged yet are
    pulled, scored whole (their prototype needs every member) and only their new rows returned.
    """
    try:
        config = CLUSTER_MODEL_VERSIONS[card.model_version]
    except KeyError:
        raise MinorityConfigError(
            f"cluster_model version {card.model_version!r} has no configuration in "
            f"mrs.minority.clustering.CLUSTER_MODEL_VERSIONS (known: {sorted(CLUSTER_MODEL_VERSIONS)})"
        ) from None
    inputs = sql_over(
        con,
        {"detection_log": detection_log, "narratives": narratives},
        cluster_inputs_sql(classifier_version, baseline_version),
    )
    unknown = inputs.filter("cluster_name is null").project("anomaly_id, narrative_id").limit(10).fetchall()
    if unknown:
        raise MinorityConfigError(
            f"cluster_log: these detections name a narrative that master_narratives does not have, so the MVP "
            f"cluster lookup has no cluster for them (anomaly_id, narrative_id): {unknown}"
        )
    candidates = with_log_ids(inputs, CLUSTER_LOG, card)
    fresh = unlogged(candidates, log_relation).project("log_id, cluster_name").to_arrow_table()
    if fresh.num_rows:
        names = ", ".join(sql_literal(n) for n in sorted(set(fresh.column("cluster_name").to_pylist())))
        batch = candidates.filter(f"cluster_name in ({names})").order("anomaly_id").to_arrow_table()
    else:
        batch = candidates.limit(0).to_arrow_table()
    outputs = predict_batch(batch.drop_columns(["log_id", "input_fingerprint"]), config)
    outputs = outputs.append_column("log_id", batch.column("log_id")).append_column(
        "input_fingerprint", batch.column("input_fingerprint")
    )
    outputs = outputs.filter(pc.is_in(outputs.column("log_id"), value_set=fresh.column("log_id").combine_chunks()))
    # a shape opposite to its cluster's (cosine < 0) gives no confidence in the match, never a negative one
    confidence = pc.max_element_wise(outputs.column("similarity_score"), pa.scalar(0.0))
    return finalize(outputs, CLUSTER_LOG, card, run or RunContext.current(), confidence=confidence)
