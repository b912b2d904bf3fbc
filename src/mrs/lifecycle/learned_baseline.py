"""Scoring ``baseline_log`` with a trained (LightGBM) version of the ``baseline`` model.

Same log, same schema, same scoring range as the heuristic version (the anomaly window and the
recent history, ``vars.baseline_scoring_periods``), plus the re-review range when one is configured
(:class:`Rereview`). The artefact is the registered one: its ``model.txt`` and ``manifest.json``
are checked against the SHA-256 values in ``model_registry_log`` before anything is scored.

The heuristic-specific columns of ``baseline_log`` are filled with their learned-model meaning:
``same_weekday_median`` is the median of the units on the same weekday 1, 2 and 3 weeks before
(``same_weekday_weeks`` of them known), ``trend_factor`` the ratio of the model's expectation to
that median (1 when the median is 0) and ``trend_days`` the days of history behind the features.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from mrs.build_notes import build_note
from mrs.duckdb_relations import query_relation
from mrs.lifecycle.artifacts import (
    MANIFEST_FILE,
    ArtifactError,
    Manifest,
    artifact_folder,
    read_manifest,
    read_verified_model,
    sha256_file,
)
from mrs.lifecycle.features import (
    FEATURE_HORIZON_DAYS,
    MIN_LAGGED_HISTORY_DAYS,
    baseline_features,
    first_scorable_offset_days,
)
from mrs.lifecycle.governance import ActiveVersion
from mrs.lifecycle.registry import TRAINED
from mrs.lifecycle.training import model_frame
from mrs.logs import score_new_rows
from mrs.minority.baseline import sales_date_range, score_baseline
from mrs.minority.config import BaselineScoring, MinorityConfigError
from mrs.minority.schemas import BASELINE_LOG, with_unset_columns
from mrs.versions import MODEL_NAMES

if TYPE_CHECKING:  # pragma: no cover
    import duckdb


class RereviewError(ValueError):
    """``vars.rereview`` is not a valid re-review request."""


@dataclass(frozen=True)
class Rereview:
    """``vars.rereview``: re-score ``model``'s history from ``start`` to ``end`` with its active
    version. New rows are appended beside the old ones (other versions' rows stay)."""

    model: str
    start: date
    end: date

    @classmethod
    def parse(cls, value: Any) -> Rereview | None:
        """From the var (a mapping ``{model, from, to}``, or JSON text of one); empty means none."""
        if value in (None, "", {}, "{}", "None", "null"):
            return None
        data = json.loads(value) if isinstance(value, str) else dict(value)
        if not data:
            return None
        try:
            result = cls(str(data["model"]), date.fromisoformat(str(data["from"])), date.fromisoformat(str(data["to"])))
        except (KeyError, ValueError) as exc:
            raise RereviewError(
                f"vars.rereview must look like {{model: baseline, from: 2025-08-01, to: 2025-08-12}}, got {value!r} ({exc})"
            ) from None
        if result.start > result.end:
            raise RereviewError(f"vars.rereview starts ({result.start}) after it ends ({result.end})")
        if result.model not in MODEL_NAMES:
            raise RereviewError(f"vars.rereview names unknown model {result.model!r} (models: {', '.join(MODEL_NAMES)})")
        return result

    def range_for(self, model_name: str) -> tuple[date, date] | None:
        """The range to re-score for ``model_name`` (None when the re-review is about another model).

        Only the baseline scores a limited range of days; the other models already score every
        input their active version has not scored yet, so activating a version re-reviews them.
        """
        return (self.start, self.end) if self.model == model_name else None


@dataclass(frozen=True)
class LoadedModel:
    manifest: Manifest
    booster: Any


def load_registered_model(active: ActiveVersion) -> LoadedModel:
    """The booster and manifest of a trained active version, verified against the registry."""
    import lightgbm

    if not active.artifact_uri or not active.artifact_sha256:
        raise ArtifactError(f"{active.card.model_name} {active.card.model_version} has no trained artefact")
    manifest_path = artifact_folder(active.artifact_uri) / MANIFEST_FILE
    if not manifest_path.is_file() or sha256_file(manifest_path) != active.registry_row["entry_fingerprint"]:
        raise ArtifactError(
            f"{manifest_path} is missing or differs from the registered manifest: versions are immutable; train a new version"
        )
    text = read_verified_model(active.artifact_uri, active.artifact_sha256)
    return LoadedModel(read_manifest(manifest_path), lightgbm.Booster(model_str=text))


def scoring_relation(
    con: duckdb.DuckDBPyConnection,
    sales_features: duckdb.DuckDBPyRelation,
    scoring: BaselineScoring,
) -> duckdb.DuckDBPyRelation:
    """The days a build scores, with their features: the last ``scoring.scoring_periods`` periods (always
    reaching back to the anomaly window's start), plus the re-review range - as the heuristic does."""
    return query_relation(
        baseline_features(con, sales_features),
        "mrs_baseline_features",
        f"""select mrs_baseline_features.*, {scoring.in_window_sql("sales_date")} as in_anomaly_window
            from mrs_baseline_features,
                 (select {scoring.first_scored_day_sql("max(sales_date)")} as first_scored_day
                  from mrs_baseline_features) as scoring_range
            where {scoring.scored_days_sql("first_scored_day")}""",
    )


def predict_batch(inputs: pa.Table, model: LoadedModel) -> pa.Table:
    """``baseline_log``'s own columns for each feature row, in order."""
    frame = inputs.to_pandas()
    expected = (
        np.asarray(model.booster.predict(model_frame(frame, model.manifest.categorical_levels)), float)
        if len(frame)
        else np.zeros(0)
    )
    lags = frame[["lag_7d", "lag_14d", "lag_21d"]].to_numpy(float)
    known = np.isfinite(lags).sum(axis=1)
    median = np.where(known > 0, np.nanmedian(np.where(known[:, None] > 0, lags, 0.0), axis=1), 0.0)
    actual = frame["units_sold"].to_numpy(float).round().astype(np.int64)
    trend_factor = np.where(median > 0, expected / np.where(median > 0, median, 1.0), 1.0)
    return pa.table(
        {
            "store_id": inputs.column("store_id"),
            "sku_id": inputs.column("sku_id"),
            "sales_date": inputs.column("sales_date"),
            "day_of_week": pa.array(frame["day_of_week"].to_numpy(np.int32)),
            "in_anomaly_window": inputs.column("in_anomaly_window"),
            "actual_units": pa.array(actual, pa.int64()),
            "expected_units": pa.array(expected, pa.float64()),
            "residual_units": pa.array(actual - expected, pa.float64()),
            "same_weekday_median": pa.array(median, pa.float64()),
            "same_weekday_weeks": pa.array(known.astype(np.int32)),
            "trend_factor": pa.array(trend_factor, pa.float64()),
            "trend_days": pa.array(frame["history_days_28d_lag7"].to_numpy(np.int32)),
        }
    )


def check_model_grain(model: LoadedModel, scoring: BaselineScoring) -> None:
    """Refuse to score with a version trained at another sales grain than the build's."""
    trained_grain = str(model.manifest.parameters.get("sales_grain", "day"))
    if trained_grain != scoring.grain.name:
        m = model.manifest
        raise MinorityConfigError(
            f"baseline {m.model_version} was trained at sales_grain {trained_grain!r} and this build's "
            f"vars.sales_grain is {scoring.grain.name!r}: train a version on this grain's warehouse "
            f'(`mrs train baseline`), or activate a built-in baseline version (e.g. "0"), which follows the grain'
        )


def score_learned_baseline(
    con: duckdb.DuckDBPyConnection,
    sales_features: duckdb.DuckDBPyRelation,
    *,
    active: ActiveVersion,
    scoring: BaselineScoring,
    log_relation: str | None,
) -> pa.Table:
    """The ``baseline_log`` step for a trained version: new rows only, typed for the log."""
    model = load_registered_model(active)
    check_model_grain(model, scoring)
    return score_new_rows(
        scoring_relation(con, sales_features, scoring),
        spec=BASELINE_LOG,
        card=active.card,
        log_relation=log_relation,
        # a trained version's rows have no batch_fingerprint (it reads int_sales_features)
        predict=lambda inputs: with_unset_columns(predict_batch(inputs, model=model), BASELINE_LOG),
    )


def history_needed_days(kind: str, scoring: BaselineScoring) -> int:
    """Days after a series' first period before a baseline of this kind can score a period: one
    season for a built-in (same-period) heuristic (7 days; 52 weeks), the features' look-back for
    a trained version (:func:`mrs.lifecycle.features.first_scorable_offset_days`)."""
    grain = scoring.grain
    if kind == TRAINED:
        return first_scorable_offset_days(grain.period_days)
    return grain.season_periods * grain.period_days


def short_history_warning(
    active: ActiveVersion, scoring: BaselineScoring, first_day: date | None, last_day: date | None
) -> str | None:
    """The build warning when some scored periods come too early in the sales for the active
    baseline to have the history it needs (they get no baseline, hence no detection); None when
    every scored period can be scored. The sales periods are ``first_day + k * period``."""
    if first_day is None or last_day is None:
        return None
    grain, unit, period = scoring.grain, scoring.grain.name, scoring.grain.period_days
    recent = last_day - timedelta(days=(scoring.scoring_periods - 1) * period)
    range_start = max(first_day, min(recent, scoring.window.start) if scoring.window else recent)
    first_scorable = first_day + timedelta(days=history_needed_days(active.kind, scoring))
    periods = [first_day + timedelta(days=k * period) for k in range((last_day - first_day).days // period + 1)]
    scored = [d for d in periods if d >= range_start]
    unscorable = sum(d < first_scorable for d in scored)
    if not unscorable:
        return None
    needs = (
        f"features from {FEATURE_HORIZON_DAYS} days earlier with {MIN_LAGGED_HISTORY_DAYS} {unit}s of history before them"
        if active.kind == TRAINED
        else f"the same {unit} one season ({grain.season_periods} {unit}s) earlier"
    )
    scorable = sum(d >= first_scorable for d in periods)
    fix = (
        f"set vars.baseline_scoring_periods to at most {scorable}, or bring longer history"
        if scorable
        else f"bring more than {history_needed_days(active.kind, scoring) // period} {unit}s of sales history"
    )
    what = (
        "nothing is scored"
        if unscorable == len(scored)
        else f"the {unscorable} {unit}s before it get no baseline and no detection"
    )
    window = ", reaching back to the anomaly window" if scoring.window and scoring.window.start < recent else ""
    return (
        f"WARNING baseline {active.card.model_version} has no history for {unscorable} of the {len(scored)} {unit}s "
        f"it scores (vars.baseline_scoring_periods: {scoring.scoring_periods}{window}, vars.sales_grain: {unit}): "
        f"a {unit} needs {needs}, so sales from {first_day} give a first baseline on {first_scorable}; {what}. "
        f"To fix it, {fix}"
    )


def score_active_baseline(
    con: duckdb.DuckDBPyConnection,
    active: ActiveVersion,
    *,
    sales: duckdb.DuckDBPyRelation,
    sales_features: duckdb.DuckDBPyRelation,
    scoring: BaselineScoring,
    log_relation: str | None,
) -> pa.Table:
    """The ``baseline_log`` step of whichever version is active: a built-in heuristic scores from
    ``unified_sales_data`` (:func:`mrs.minority.baseline.score_baseline`), a trained one from
    ``int_sales_features`` with its registered artefact."""
    warning = short_history_warning(active, scoring, *sales_date_range(sales))
    if warning:
        build_note("baseline_log", warning)
    if active.kind == TRAINED:
        return score_learned_baseline(con, sales_features, active=active, scoring=scoring, log_relation=log_relation)
    return score_baseline(con, sales, card=active.card, scoring=scoring, log_relation=log_relation)
