"""Detection (the MRDL, ``detection_log``): one row per anomalous store × SKU × window.

Version "0" of ``anomaly_classifier`` is the MVP classifier: it performs no learning and surfaces
the anomalies predefined in ``master_narratives`` (each narrative's window on each of its target
store × SKU pairs) as detections. Every detection still carries what the data shows against the
active baseline: actual and expected units over the window, the residual (actual - expected),
the relative deviation, a z-score against the training period, the observed direction and peak.

The training period is every day of the active baseline before the anomaly window: the spread
(sample standard deviation) of a pair's daily residuals there scales its z-score.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mrs.logs import ModelCard, score_new_rows
from mrs.minority.config import AnomalyWindow, MinorityConfigError
from mrs.minority.relations import current_rows_sql, sql_literal, sql_over
from mrs.minority.schemas import BASELINE_LOG, DETECTION_LOG, with_unset_columns
from mrs.minority.segments import Segments

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

ANOMALY_CLASSIFIER_VERSIONS: tuple[str, ...] = ("0",)
"""Built-in classifier versions this module can run ("0": surface the master narratives)."""


class MissingBaselineError(MinorityConfigError):
    """A detection window has days without a baseline row of the active baseline version."""


def detection_inputs_sql(baseline_version: str, window: AnomalyWindow | None) -> str:
    """SQL over ``baseline_log``, ``narratives`` and ``narrative_targets``: one row per narrative
    target with its window's daily actual and expected units (from the current baseline rows of
    ``baseline_version``) and the spread of its residuals in the training period."""
    baseline = current_rows_sql("target_baseline_rows", BASELINE_LOG.key_columns, {"model_version": baseline_version})
    present = "filter (where baseline.sales_date is not null)"
    return f"""
    with targets as (
        select
            narratives.narrative_id, narrative_targets.store_id, narrative_targets.sku_id,
            narratives.window_start, narratives.window_end, narratives.direction, narratives.magnitude
        from narratives
        inner join narrative_targets on narrative_targets.narrative_id = narratives.narrative_id
    ),
    -- only the target pairs' rows reach the per-key window below, however long the log grows
    target_baseline_rows as (
        select baseline_log.*
        from baseline_log
        semi join targets
            on targets.store_id = baseline_log.store_id
            and targets.sku_id = baseline_log.sku_id
    ),
    baseline as (
        {baseline}
    ),
    -- the residuals themselves, in date order: a float aggregate here would not be bit-stable
    -- across runs, and the fingerprint must be
    training as (
        select store_id, sku_id,
            list(residual_units order by sales_date) as training_residuals
        from baseline
        where {f"sales_date < cast({sql_literal(window.start)} as date)" if window else "false"}
        group by store_id, sku_id
    ),
    target_days as (
        select targets.*, baseline.sales_date, baseline.actual_units, baseline.expected_units, baseline.log_id
        from targets
        left join baseline
            on baseline.store_id = targets.store_id
            and baseline.sku_id = targets.sku_id
            and baseline.sales_date between targets.window_start and targets.window_end
    ),
    detections as (
        select
            narrative_id, store_id, sku_id, window_start, window_end, direction, magnitude,
            cast(date_diff('day', window_start, window_end) + 1 as integer) as window_days,
            cast(count(baseline.sales_date) as integer) as baseline_days,
            coalesce(list(baseline.sales_date order by baseline.sales_date) {present}, []) as daily_dates,
            coalesce(list(baseline.actual_units order by baseline.sales_date) {present}, []) as daily_actual_units,
            coalesce(list(baseline.expected_units order by baseline.sales_date) {present}, []) as daily_expected_units,
            coalesce(list(baseline.log_id order by baseline.sales_date) {present}, []) as baseline_log_ids
        from target_days as baseline
        group by narrative_id, store_id, sku_id, window_start, window_end, direction, magnitude
    )
    select
        concat_ws(':', detections.store_id, detections.sku_id,
                  strftime(detections.window_start, '%Y%m%d'), strftime(detections.window_end, '%Y%m%d')) as anomaly_id,
        detections.*,
        coalesce(training.training_residuals, []) as training_residuals,
        {sql_literal(baseline_version)} as baseline_model_version
    from detections
    left join training
        on training.store_id = detections.store_id
        and training.sku_id = detections.sku_id
    """


def detection_inputs(
    con: "duckdb.DuckDBPyConnection",
    *,
    baseline_log: "duckdb.DuckDBPyRelation",
    narratives: "duckdb.DuckDBPyRelation",
    narrative_targets: "duckdb.DuckDBPyRelation",
    baseline_version: str,
    window: AnomalyWindow | None,
) -> "duckdb.DuckDBPyRelation":
    """The candidate detections, checked: every window day has a baseline row, else a clear error."""
    inputs = sql_over(
        con,
        {"baseline_log": baseline_log, "narratives": narratives, "narrative_targets": narrative_targets},
        detection_inputs_sql(baseline_version, window),
    )
    incomplete = inputs.filter("baseline_days <> window_days").project(
        "narrative_id, store_id, sku_id, window_start, window_end, baseline_days, window_days"
    )
    rows = incomplete.limit(10).fetchall()
    if rows:
        raise MissingBaselineError(
            f"detection_log: baseline_log has no row of baseline version {baseline_version!r} for some days of "
            f"these narrative windows (narrative, store, SKU, start, end, days with a baseline, window days): {rows}. "
            "Check that vars.baseline_scoring_periods reaches back to the anomaly window and that "
            "unified_sales_data covers the window."
        )
    return inputs


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

    return with_unset_columns(pa.table(
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
    ), DETECTION_LOG)  # version 0 has no value for the columns version 1 added


def score_detections(
    con: "duckdb.DuckDBPyConnection",
    *,
    baseline_log: "duckdb.DuckDBPyRelation",
    narratives: "duckdb.DuckDBPyRelation",
    narrative_targets: "duckdb.DuckDBPyRelation",
    card: ModelCard,
    baseline_version: str,
    window: AnomalyWindow | None,
    log_relation: str | None,
) -> pa.Table:
    """The ``detection_log`` step: new detections of the card's version on the active baseline."""
    if card.model_version not in ANOMALY_CLASSIFIER_VERSIONS:
        raise MinorityConfigError(
            f"anomaly_classifier version {card.model_version!r} has no implementation in mrs.minority.detection "
            f"(built in: {list(ANOMALY_CLASSIFIER_VERSIONS)})"
        )
    inputs = detection_inputs(
        con,
        baseline_log=baseline_log,
        narratives=narratives,
        narrative_targets=narrative_targets,
        baseline_version=baseline_version,
        window=window,
    )
    return score_new_rows(inputs, spec=DETECTION_LOG, card=card, log_relation=log_relation, predict=predict_batch)
