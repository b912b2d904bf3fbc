"""The trained (v1) versions of the three stages as log steps: detection_log, cluster_log, attribution_log.

They run when the active version of ``anomaly_classifier``, ``cluster_model`` or
``attribution_model`` is a trained one (its registered artefact, checked by SHA-256). None of
them reads ``master_narratives``: ``narrative_id`` is null on their rows.

* Detection scans every scored period of the active baseline (``int_minority__scored_periods``:
  its current baseline_log rows with the pairs' master attributes) and logs one row per detected
  event (a run of periods on a pair) with the event's probability as ``model_confidence_metric``.
* Clustering and attribution describe the current detections of the active classifier
  (``int_minority__current_detections``), reading the scored periods around them for the
  incident shape.

Their inputs are assembled by those dbt SQL models; here only pure functions of frames run.

A row's ``input_fingerprint`` hashes what it was computed from (the baseline rows of the window,
and for clusters and causes the incident's detections and the evidence), so a re-run on unchanged
inputs appends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from mrs.lifecycle.schemas import sql_fingerprint, stable_id
from mrs.logs import ModelCard, RunContext, finalize, holds_value, package_fingerprint, unlogged, with_log_ids
from mrs.minority.causes import EVENT_TYPES, UNEXPLAINED, CauseModel, cause_features, evidence
from mrs.minority.classifier import AnomalyClassifier
from mrs.minority.pipeline import Detections, detect
from mrs.minority.scan import SLICES, Cube, build_cube
from mrs.minority.schemas import ATTRIBUTION_LOG, CLUSTER_LOG, DETECTION_LOG
from mrs.minority.shapes import SHAPE_FEATURES, ClusterModel, incidents, shape_features
from mrs.minority.training import ModelT, model_from_text
from mrs.step_log import timed_step

if TYPE_CHECKING:  # pragma: no cover
    from mrs.lifecycle.governance import ActiveVersion


FOUND_ON: tuple[str, ...] = ("pair",) + SLICES
"""detection_log.found_on by candidate source (mrs.minority.scan.candidates): 0 the pair, 1 + i slice i."""


def load_active_model(active: ActiveVersion, kind: type[ModelT]) -> ModelT:
    """The fitted model of a trained active version, from its registered artefact."""
    from mrs.lifecycle.artifacts import ArtifactError, read_verified_model

    uri, sha256 = active.artifact_uri, active.artifact_sha256
    if uri is None or sha256 is None:
        raise ArtifactError(
            f"{active.card.model_name} version {active.card.model_version} is trained, but its registry row names "
            "no artefact (artifact_uri, artifact_sha256)"
        )
    return model_from_text(read_verified_model(uri, sha256), kind)


SCORED_PERIOD_COLUMNS: tuple[str, ...] = ("store_id", "sku_id", "sales_date", "actual_units", "expected_units")


def pair_masters(store_rows: pa.Table, sku_rows: pa.Table) -> tuple[pa.Table, pa.Table]:
    """The stores (store_id, retailer, region) and SKUs (sku_id, category) of the scored pairs,
    sorted by id, from rows of those columns (repeats allowed): the masters the scan's slices are
    built from."""
    stores = store_rows.group_by(["store_id", "retailer", "region"]).aggregate([]).sort_by("store_id")
    skus = sku_rows.group_by(["sku_id", "category"]).aggregate([]).sort_by("sku_id")
    for table, key in ((stores, "store_id"), (skus, "sku_id")):
        if len(set(table.column(key).to_pylist())) != table.num_rows:
            raise ValueError(f"int_minority__scored_periods: a {key} has more than one set of master attributes")
    return stores, skus


def _periods(scored_periods, *, log_ids: bool) -> tuple[pa.Table, pa.Table, pa.Table]:
    """The scored periods (the columns the cube is built from, and each row's baseline_log_id when
    ``log_ids``) and their pair masters. In no set order: the cube places each row by its pair and
    period, so millions of rows are not sorted, and each row's master text is not read whole."""
    columns = SCORED_PERIOD_COLUMNS + (("baseline_log_id",) if log_ids else ())
    periods = scored_periods.select(*columns).to_arrow_table()
    stores, skus = pair_masters(
        scored_periods.select("store_id", "retailer", "region").distinct().to_arrow_table(),
        scored_periods.select("sku_id", "category").distinct().to_arrow_table(),
    )
    return periods, stores, skus


@dataclass(frozen=True)
class BaselineLogIds:
    """Where each pair × period of the cube got its baseline row, and that row's log_id: the ids
    stay one Arrow array (millions of rows) and only an event's few are read out."""

    rows: np.ndarray  # (P, D) row of the batch, -1 where the cube has no baseline row
    ids: pa.Array

    @classmethod
    def of(cls, baseline: pa.Table, cube: Cube) -> BaselineLogIds:
        """The log_ids of the batch ``cube`` was built from (the same rows, in the same order)."""
        return cls(cube.row_of, baseline.column("baseline_log_id").combine_chunks())

    def window(self, pair: int, start: int, end: int) -> list[str | None]:
        """The log_ids of one pair's periods ``start`` to ``end`` (None where there is no row)."""
        return [self.ids[int(r)].as_py() if r >= 0 else None for r in self.rows[pair, start : end + 1]]


def _new_rows(
    con, outputs: pa.Table, spec, card: ModelCard, fingerprint_columns: list[str], log_relation: str | None, confidence: str
) -> pa.Table:
    """Fingerprint, keep the rows not logged yet, and type them for the log."""
    rel = con.from_arrow(outputs)
    fresh = unlogged(with_log_ids(rel, spec, card, fingerprint_columns), log_relation).order(", ".join(spec.key_columns))
    batch = fresh.to_arrow_table()
    return finalize(batch, spec, card, RunContext.current(), confidence=batch.column(confidence).cast(pa.float64()))


def detection_rows(det: Detections, log_ids: BaselineLogIds, baseline_version: str) -> pa.Table:
    """detection_log's own columns for every detected event (plus ``probability``)."""
    cube, ev = det.cube, det.events
    n_k = cube.sku_ids.size
    pair = ev["pair"].to_numpy(np.int64)
    start, end = ev["start"].to_numpy(np.int64), ev["end"].to_numpy(np.int64)
    sign = ev["sign"].to_numpy(np.int64)
    y, mu = np.nan_to_num(cube.actual), np.nan_to_num(cube.expected)
    daily_a, daily_e, daily_ids, peak_date, peak_ratio, sd, n_hist = [], [], [], [], [], [], []
    for p, a, b in zip(pair, start, end, strict=True):  # one event = one short window: at most a few hundred per build
        ya, ea = y[p, a : b + 1], mu[p, a : b + 1]
        daily_a.append(ya.astype(np.int64).tolist())
        daily_e.append(ea.tolist())
        daily_ids.append(log_ids.window(int(p), int(a), int(b)))
        j = int(np.argmax(np.abs(ya - ea)))
        peak_date.append(cube.days[a + j])
        peak_ratio.append(float(ya[j] / ea[j]) if ea[j] > 0 else None)
        history = (y[p, :a] - mu[p, :a])[np.isfinite(cube.actual[p, :a])]
        sd.append(float(np.std(history, ddof=1)) if history.size > 1 else None)
        n_hist.append(int(history.size))
    actual = np.array([sum(x) for x in daily_a], dtype=np.float64)
    expected = np.array([sum(x) for x in daily_e], dtype=np.float64)
    store_ids = cube.store_ids[pair // n_k].astype(str)
    sku_ids = cube.sku_ids[pair % n_k].astype(str)
    window_start, window_end = cube.days[start], cube.days[end]
    anomaly_id = [
        f"{s}:{k}:{str(a).replace('-', '')}:{str(b).replace('-', '')}"
        for s, k, a, b in zip(store_ids, sku_ids, window_start, window_end, strict=True)
    ]
    direction = np.where(sign > 0, "up", "down")
    best = det.candidates[ev["candidate"].to_numpy(np.int64)]
    z = det.features["z_tail"].to_numpy()[ev["candidate"].to_numpy(np.int64)] * best[:, 3]
    ratio = np.divide(actual, expected, out=np.zeros_like(actual), where=expected > 0)
    return pa.table(
        {
            "anomaly_id": pa.array(anomaly_id, pa.string()),
            "narrative_id": pa.nulls(len(ev), pa.string()),
            "store_id": pa.array(store_ids, pa.string()),
            "sku_id": pa.array(sku_ids, pa.string()),
            "window_start": pa.array(window_start, pa.date32()),
            "window_end": pa.array(window_end, pa.date32()),
            "window_days": pa.array(end - start + 1, pa.int32()),
            "direction": pa.array(direction, pa.string()),
            # v1 has no narrative magnitude: the observed ratio of actual to expected over the window
            "magnitude": pa.array(ratio, pa.float64()),
            "actual_units": pa.array(actual.astype(np.int64)),
            "expected_units": pa.array(expected),
            "residual_units": pa.array(actual - expected),
            "relative_deviation": pa.array(
                np.divide(actual - expected, expected, out=np.zeros_like(actual), where=expected > 0), mask=~(expected > 0)
            ),
            "z_score": pa.array(z, pa.float64()),
            "training_residual_sd": pa.array(sd, pa.float64()),
            "training_days": pa.array(n_hist, pa.int32()),
            "observed_direction": pa.array(direction, pa.string()),
            "peak_date": pa.array(np.array(peak_date, dtype="datetime64[D]"), pa.date32()),
            "peak_ratio": pa.array(peak_ratio, pa.float64()),
            "daily_actual_units": pa.array(daily_a, pa.list_(pa.int64())),
            "daily_expected_units": pa.array(daily_e, pa.list_(pa.float64())),
            "baseline_model_version": pa.array([baseline_version] * len(ev), pa.string()),
            "baseline_log_ids": pa.array(daily_ids, pa.list_(pa.string())),
            # where the scan found the event: the pair itself, or the slice it was localised from
            "found_on": pa.array([FOUND_ON[int(s)] for s in best[:, 4]], pa.string()),
            "probability": pa.array(ev["probability"].to_numpy(np.float64)),
        }
    )


def scan_fingerprint(con, scored_periods, active: ActiveVersion, baseline_version: str) -> str:
    """What a scan's result is a function of: every scored period (all the columns of
    ``int_minority__scored_periods``, order-independent), the classifier's registered version and
    artefact, the baseline version and the package's code."""
    periods = sql_fingerprint(con, scored_periods.sql_query(), scored_periods.columns)
    return stable_id(
        active.card.model_name,
        active.card.model_version,
        active.registry_log_id,
        baseline_version,
        periods,
        package_fingerprint(),
    )


def score_detections_v1(
    con, *, active: ActiveVersion, scored_periods, baseline_version: str, log_relation: str | None
) -> pa.Table:
    """The ``detection_log`` step of a trained anomaly_classifier over ``int_minority__scored_periods``.

    Every row carries the ``scan_fingerprint`` of the scan that found it. A build whose scan would
    read exactly what a logged scan read does not scan again: that scan's events are all in the
    log (the ones it found new were appended together, with its fingerprint; the others were
    there before), and the same inputs give the same events.
    """
    with timed_step(DETECTION_LOG.name) as counts:
        fingerprint = scan_fingerprint(con, scored_periods, active, baseline_version)
        if holds_value(con, log_relation, "scan_fingerprint", fingerprint):
            counts.detail = f"not scanned: the scored periods are those of a logged scan (scan_fingerprint {fingerprint[:12]})"
            return DETECTION_LOG.schema.empty_table()
        classifier = load_active_model(active, AnomalyClassifier)
        periods, store_table, sku_table = _periods(scored_periods, log_ids=True)
        det = detect(periods.select(list(SCORED_PERIOD_COLUMNS)), store_table, sku_table, classifier)
        outputs = detection_rows(det, BaselineLogIds.of(periods, det.cube), baseline_version)
        outputs = outputs.append_column("scan_fingerprint", pa.array([fingerprint] * outputs.num_rows, pa.string()))
        batch = _new_rows(
            con,
            outputs,
            DETECTION_LOG,
            active.card,
            ["baseline_log_ids", "daily_actual_units", "daily_expected_units"],
            log_relation,
            confidence="probability",
        )
        counts.rows_in, counts.rows_new = periods.num_rows, batch.num_rows
        counts.detail = f"{active.card.model_name} v{active.card.model_version}"
    return batch


def _current_events(detections, cube) -> tuple[pa.Table, pd.DataFrame]:
    """The current detections (``int_minority__current_detections``) and their events on the cube."""
    rows = detections.order("anomaly_id").to_arrow_table()
    s_pos = {s: i for i, s in enumerate(cube.store_ids)}
    k_pos = {k: i for i, k in enumerate(cube.sku_ids)}
    n_k = cube.sku_ids.size
    events = pd.DataFrame(
        {
            "pair": [
                s_pos[s] * n_k + k_pos[k]
                for s, k in zip(rows.column("store_id").to_pylist(), rows.column("sku_id").to_pylist(), strict=True)
            ],
            "sign": np.where(np.asarray(rows.column("observed_direction").to_pylist()) == "up", 1, -1),
            "start": cube.period_of(rows.column("window_start")),
            "end": cube.period_of(rows.column("window_end")),
        }
    )
    return rows, events


def _incident_members(rows: pa.Table, events: pd.DataFrame, cube) -> list[list[str]]:
    """Per detection: its incident's detection log ids (what its shape was read from)."""
    inc = incidents(events, cube) if len(events) else np.zeros(0, np.int64)
    ids = np.asarray(rows.column("detection_log_id").to_pylist(), dtype=object)
    members = {i: sorted(ids[inc == i]) for i in np.unique(inc)}
    return [members[i] for i in inc]


def _describe_inputs(detections, scored_periods):
    periods, store_table, sku_table = _periods(scored_periods, log_ids=False)
    cube = build_cube(periods, store_table, sku_table)
    rows, events = _current_events(detections, cube)
    return cube, rows, events, store_table, sku_table


def score_clusters_v1(con, *, active: ActiveVersion, detections, scored_periods, log_relation: str | None) -> pa.Table:
    """The ``cluster_log`` step of a trained cluster_model over ``int_minority__current_detections``."""
    model = load_active_model(active, ClusterModel)
    cube, rows, events, _, _ = _describe_inputs(detections, scored_periods)
    shapes = shape_features(events, cube)
    assigned = model.assign(shapes) if len(events) else pd.DataFrame({"cluster_id": [], "cluster_name": [], "membership": []})
    names = assigned["cluster_name"].astype(str).to_numpy()
    size = pd.Series(names).map(pd.Series(names).value_counts()).to_numpy() if len(names) else np.zeros(0)
    vectors = shapes[list(SHAPE_FEATURES)].to_numpy(np.float64) if len(events) else np.zeros((0, len(SHAPE_FEATURES)))
    lengths = np.asarray(rows.column("window_days").to_pylist(), dtype=np.int64)
    daily_a = rows.column("daily_actual_units").to_pylist()
    daily_e = rows.column("daily_expected_units").to_pylist()
    peak = (
        np.array([(int(np.argmax(np.abs(np.subtract(a, e)))) + 0.5) / len(a) for a, e in zip(daily_a, daily_e, strict=True)])
        if len(events)
        else np.zeros(0)
    )
    outputs = pa.table(
        {
            "anomaly_id": rows.column("anomaly_id"),
            "detection_log_id": rows.column("detection_log_id"),
            "narrative_id": pa.nulls(rows.num_rows, pa.string()),
            "cluster_name": pa.array(names, pa.string()),
            "similarity_score": pa.array(assigned["membership"].to_numpy(np.float64)),
            "cluster_size": pa.array(size.astype(np.int32), pa.int32()),
            "shape_vector": pa.array(vectors.tolist(), pa.list_(pa.float64())),
            "peak_position": pa.array(peak, pa.float64()),
            "duration_days": pa.array(lengths, pa.int32()),
            "residual_sign": pa.array(events["sign"].to_numpy(np.int8) if len(events) else np.zeros(0, np.int8), pa.int8()),
            "cluster_id": pa.array(assigned["cluster_id"].to_numpy(np.int64), pa.int32()),
            "is_noise": pa.array(assigned["cluster_id"].to_numpy(np.int64) < 0, pa.bool_()),
            "incident_detections": pa.array(_incident_members(rows, events, cube), pa.list_(pa.string())),
        }
    )
    return _new_rows(
        con,
        outputs,
        CLUSTER_LOG,
        active.card,
        ["detection_log_id", "incident_detections"],
        log_relation,
        confidence="similarity_score",
    )


def score_attributions_v1(
    con, *, active: ActiveVersion, detections, scored_periods, campaigns, context_events, log_relation: str | None
) -> pa.Table:
    """The ``attribution_log`` step of a trained attribution_model over ``int_minority__current_detections``."""
    model = load_active_model(active, CauseModel)
    cube, rows, events, store_table, sku_table = _describe_inputs(detections, scored_periods)
    shapes = shape_features(events, cube)
    event_table = pa.table(
        {
            "event_row": pa.array(np.arange(rows.num_rows), pa.int64()),
            "store_id": rows.column("store_id"),
            "sku_id": rows.column("sku_id"),
            "window_start": rows.column("window_start"),
            "window_end": rows.column("window_end"),
        }
    )
    ev = evidence(event_table, store_table, sku_table, campaigns.to_arrow_table(), context_events.to_arrow_table())
    ranked = (
        model.rank(cause_features(ev, shapes))
        if rows.num_rows
        else pd.DataFrame({"cause_type": [], "confidence": [], "cause_ranking": []})
    )
    campaign_ids = [list(x) for x in ev["campaign_ids"]] if rows.num_rows else []
    event_ids = [sorted(sum((list(ev[f"{t}_event_ids"][i]) for t in EVENT_TYPES), [])) for i in range(rows.num_rows)]
    causes = ranked["cause_type"].astype(str).to_numpy()
    text = [
        "no overlapping campaign or context event explains it credibly"
        if c == UNEXPLAINED
        else f"{c.replace('_', ' ')} (ranked first of {', '.join(r)}) "
        f"on the evidence of {len(ci) + len(ei)} overlapping record(s)"
        for c, r, ci, ei in zip(causes, ranked["cause_ranking"], campaign_ids, event_ids, strict=True)
    ]
    outputs = pa.table(
        {
            "anomaly_id": rows.column("anomaly_id"),
            "detection_log_id": rows.column("detection_log_id"),
            "narrative_id": pa.nulls(rows.num_rows, pa.string()),
            "cause_type": pa.array(causes, pa.string()),
            "cause": pa.array(text, pa.string()),
            "confidence": pa.array(ranked["confidence"].to_numpy(np.float64)),
            "evidence_campaign_ids": pa.array(campaign_ids, pa.list_(pa.string())),
            "evidence_event_ids": pa.array(event_ids, pa.list_(pa.string())),
            "evidence_count": pa.array([len(a) + len(b) for a, b in zip(campaign_ids, event_ids, strict=True)], pa.int32()),
            "cause_ranking": pa.array([list(r) for r in ranked["cause_ranking"]], pa.list_(pa.string())),
            "incident_detections": pa.array(_incident_members(rows, events, cube), pa.list_(pa.string())),
        }
    )
    return _new_rows(
        con,
        outputs,
        ATTRIBUTION_LOG,
        active.card,
        ["detection_log_id", "incident_detections", "evidence_campaign_ids", "evidence_event_ids"],
        log_relation,
        confidence="confidence",
    )
