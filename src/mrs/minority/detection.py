"""Detection (the MRDL, ``detection_log``): one row per anomalous store × SKU × window.

Version "0" of ``anomaly_classifier`` is the MVP classifier: it performs no learning and surfaces
the anomalies predefined in ``master_narratives`` (each narrative's window on each of its target
store × SKU pairs) as detections. Every detection still carries what the data shows against the
active baseline: actual and expected units over the window, the residual (actual - expected),
the relative deviation, a z-score against the training period, the observed direction and peak.

The training period is every day of the active baseline before the anomaly window: the spread
(sample standard deviation) of a pair's daily residuals there scales its z-score. The dbt model
``int_minority__narrative_detection_inputs`` assembles the inputs (SQL, where dbt shows the lineage
and its macros port it); this module takes the training days and scores the frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mrs.logs import ModelCard, score_new_rows
from mrs.minority.config import AnomalyWindow, MinorityConfigError
from mrs.minority.relations import current_rows_sql
from mrs.minority.schemas import DETECTION_LOG, with_unset_columns
from mrs.minority.segments import Segments

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

ANOMALY_CLASSIFIER_VERSIONS: tuple[str, ...] = ("0",)
"""Built-in classifier versions this module can run ("0": surface the master narratives)."""


class MissingBaselineError(MinorityConfigError):
    """A detection window has days without a baseline row of the active baseline version."""


INPUT_COLUMNS: tuple[str, ...] = (
    "anomaly_id",
    "narrative_id",
    "store_id",
    "sku_id",
    "window_start",
    "window_end",
    "direction",
    "magnitude",
    "window_days",
    "baseline_days",
    "daily_dates",
    "daily_actual_units",
    "daily_expected_units",
    "baseline_log_ids",
    "training_residuals",
    "baseline_model_version",
)
"""What version 0 scores, in this order (the order fingerprints the inputs)."""


def training_residuals(
    history_dates: pa.ChunkedArray, history_residuals: pa.ChunkedArray, window: AnomalyWindow | None
) -> pa.Array:
    """Per row, the residuals of the days before the anomaly window, in date order (none without a
    window: then no day is held out, and there is no training period)."""
    dates, residuals = history_dates.combine_chunks(), history_residuals.combine_chunks()
    flat_dates = pc.list_flatten(dates)
    before = pc.less(flat_dates, pa.scalar(window.start, pa.date32())) if window else pa.array(np.zeros(len(flat_dates), bool))
    rows = pc.list_parent_indices(dates).filter(before).to_numpy()
    offsets = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(dates)))]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pc.list_flatten(residuals).filter(before))


def detection_inputs(inputs: pa.Table, *, baseline_version: str, window: AnomalyWindow | None) -> pa.Table:
    """The candidate detections (one per narrative target, from ``int_minority__narrative_detection_inputs``)
    with their training residuals, checked: every window day has a baseline row, else a clear error."""
    incomplete = inputs.filter(pc.not_equal(inputs.column("baseline_days"), inputs.column("window_days")))
    if incomplete.num_rows:
        columns = ("narrative_id", "store_id", "sku_id", "window_start", "window_end", "baseline_days", "window_days")
        rows = [tuple(r.values()) for r in incomplete.select(list(columns)).slice(0, 10).to_pylist()]
        raise MissingBaselineError(
            f"detection_log: baseline_log has no row of baseline version {baseline_version!r} for some days of "
            f"these narrative windows (narrative, store, SKU, start, end, days with a baseline, window days): {rows}. "
            "Check that vars.baseline_scoring_periods reaches back to the anomaly window and that "
            "unified_sales_data covers the window."
        )
    training = training_residuals(inputs.column("history_dates"), inputs.column("history_residuals"), window)
    return inputs.append_column("training_residuals", training).select(list(INPUT_COLUMNS))


def current_detections_sql(classifier_version: str, baseline_version: str) -> str:
    """SQL over ``detection_log``: the current detections of the active classifier on the active baseline."""
    return current_rows_sql(
        "detection_log",
        DETECTION_LOG.key_columns,
        {"model_version": classifier_version, "baseline_model_version": baseline_version},
    )


def predict_batch(inputs: pa.Table) -> pa.Table:
    """The MVP classifier over a batch of candidate detections (every candidate is a detection).

    Totals are over the window; ``relative_deviation = residual / expected`` (null when nothing
    was expected); ``z_score`` is the mean daily residual over the training residual spread (null
    without a spread); the peak is the day with the largest absolute residual, ``peak_ratio`` its
    actual / expected.
    """
    actual = Segments.of(inputs.column("daily_actual_units"))
    expected = Segments.of(inputs.column("daily_expected_units"))
    if not np.array_equal(actual.lengths, expected.lengths):
        raise MinorityConfigError("detection_log: daily actual and expected units differ in length")
    daily_residual = actual.values - expected.values
    actual_total = actual.sum()
    expected_total = expected.sum()
    residual_total = actual_total - expected_total
    days = np.maximum(actual.lengths, 1)

    relative = np.divide(residual_total, expected_total, out=np.zeros_like(residual_total), where=expected_total > 0)
    training = Segments.of(inputs.column("training_residuals"))
    sd = training.sample_sd()
    z = np.divide(residual_total / days, sd, out=np.zeros_like(sd), where=sd > 0)

    peak = actual.argmax(np.abs(daily_residual))
    peak_flat = actual.starts + peak
    peak_actual, peak_expected = actual.values[peak_flat], expected.values[peak_flat]
    peak_ratio = np.divide(peak_actual, peak_expected, out=np.zeros_like(peak_actual), where=peak_expected > 0)
    dates = pc.list_flatten(inputs.column("daily_dates").combine_chunks())

    return with_unset_columns(
        pa.table(
            {
                "anomaly_id": inputs.column("anomaly_id"),
                "narrative_id": inputs.column("narrative_id"),
                "store_id": inputs.column("store_id"),
                "sku_id": inputs.column("sku_id"),
                "window_start": inputs.column("window_start"),
                "window_end": inputs.column("window_end"),
                "window_days": inputs.column("window_days"),
                "direction": inputs.column("direction"),
                "magnitude": inputs.column("magnitude"),
                "actual_units": pa.array(np.rint(actual_total).astype(np.int64)),
                "expected_units": pa.array(expected_total),
                "residual_units": pa.array(residual_total),
                "relative_deviation": pa.array(relative, mask=~(expected_total > 0)),
                "z_score": pa.array(z, mask=~(sd > 0)),
                "training_residual_sd": pa.array(sd, mask=~(sd > 0)),
                "training_days": pa.array(training.lengths, pa.int32()),
                "observed_direction": pa.array(np.where(residual_total >= 0, "up", "down")),
                "peak_date": dates.take(pa.array(peak_flat)),
                "peak_ratio": pa.array(peak_ratio, mask=~(peak_expected > 0)),
                "daily_actual_units": inputs.column("daily_actual_units"),
                "daily_expected_units": inputs.column("daily_expected_units"),
                "baseline_model_version": inputs.column("baseline_model_version"),
                "baseline_log_ids": inputs.column("baseline_log_ids"),
            }
        ),
        DETECTION_LOG,
    )  # version 0 has no value for the columns version 1 added


def score_detections(
    con: duckdb.DuckDBPyConnection,
    inputs: duckdb.DuckDBPyRelation,
    *,
    card: ModelCard,
    baseline_version: str,
    window: AnomalyWindow | None,
    log_relation: str | None,
) -> pa.Table:
    """The ``detection_log`` step: new detections of the card's version on the active baseline,
    over ``int_minority__narrative_detection_inputs`` (its rows are the narrative targets: few)."""
    if card.model_version not in ANOMALY_CLASSIFIER_VERSIONS:
        raise MinorityConfigError(
            f"anomaly_classifier version {card.model_version!r} has no implementation in mrs.minority.detection "
            f"(built in: {list(ANOMALY_CLASSIFIER_VERSIONS)})"
        )
    candidates = detection_inputs(inputs.to_arrow_table(), baseline_version=baseline_version, window=window)
    return score_new_rows(
        con.from_arrow(candidates), spec=DETECTION_LOG, card=card, log_relation=log_relation, predict=predict_batch
    )
