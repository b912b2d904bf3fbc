"""Drift monitoring and retrain events (mrs.lifecycle.monitoring) on small synthetic relations."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from mrs.lifecycle.drift import long_features_sql, summarise
from mrs.lifecycle.governance import ActiveVersion
from mrs.lifecycle.monitoring import (
    MONITORS,
    MonitoringConfig,
    MonitoringConfigError,
    MonitorSpec,
    evaluate_model,
    retrain_events,
)
from mrs.lifecycle.registry import builtin_entries
from mrs.lifecycle.schemas import MONITORING_LOG, keep_unlogged
from mrs.logs import RunContext, finalize
from mrs.versions import MODEL_NAMES

RUN = RunContext("run-1", datetime(2026, 1, 1, tzinfo=UTC))
LAST = date(2025, 8, 12)
CONFIG = MonitoringConfig(current_days=14, reference_days=56, min_rows=50)

SPEC = MonitorSpec(
    "baseline",
    as_of="select max(obs_date) from observations",
    features=lambda v: "select * from observations",
    drift_features={"units": "units", "price": "price"},
    residuals=lambda v: "select obs_date, actual, predicted from observations",
    confidence=lambda v: "select obs_date, confidence from observations",
)


def builtin_active(model: str = "baseline") -> ActiveVersion:
    entry = next(e for e in builtin_entries() if (e.card.model_name, e.card.model_version) == (model, "0"))
    return ActiveVersion(entry.card, entry.kind, entry.log_id, "apr", entry.row(RUN))


def observations(
    *,
    units_shift: float = 1.0,
    price_shift: float = 1.0,
    error_shift: float = 1.0,
    confidence_shift: float = 1.0,
    seed: int = 0,
    per_day: int = 40,
) -> pa.Table:
    """70 days x ``per_day`` rows; the shifts apply to the last 14 days (the current period)."""
    rng = np.random.default_rng(seed)
    days = [LAST - timedelta(days=i) for i in range(70)]
    obs = np.repeat(np.array(days, dtype="datetime64[D]"), per_day)
    current = obs > np.datetime64(LAST - timedelta(days=14))
    units = rng.poisson(np.where(current, 8 * units_shift, 8)).astype(float)
    price = rng.normal(10, 1, obs.size) * np.where(current, price_shift, 1.0)
    actual = rng.poisson(10, obs.size).astype(float)
    predicted = actual + rng.normal(0, 2, obs.size) * np.where(current, error_shift, 1.0)
    confidence = 0.8 * np.where(current, confidence_shift, 1.0)
    return pa.table(
        {
            "obs_date": pa.array(obs, pa.date32()),
            "units": units,
            "price": price,
            "actual": actual,
            "predicted": predicted,
            "confidence": confidence,
        }
    )


def evaluate(table: pa.Table, active: ActiveVersion | None = None, config: MonitoringConfig = CONFIG) -> dict:
    con = duckdb.connect()
    con.register("observation_rows", table)
    rows = evaluate_model(
        con, {"observations": con.table("observation_rows")}, active or builtin_active(), {"baseline": "0"}, config, SPEC
    )
    return {(r["signal"], r["subject"]): r for r in rows}


def test_steady_data_breaches_nothing() -> None:
    rows = evaluate(observations())
    assert {r["status"] for r in rows.values()} == {"ok"}
    assert rows[("feature_drift", "units")]["method"] == "wasserstein_normed"  # > 1,000 reference values
    assert rows[("feature_drift", "units")]["reference_source"] == "reference_period"
    assert rows[("feature_drift", "units")]["current_start"] == LAST - timedelta(days=13)
    assert rows[("feature_drift", "units")]["reference_end"] == LAST - timedelta(days=14)


def test_a_level_shift_in_most_features_is_dataset_drift() -> None:
    rows = evaluate(observations(units_shift=1.5, price_shift=1.3))
    assert rows[("feature_drift", "units")]["is_breach"] and rows[("feature_drift", "price")]["is_breach"]
    dataset = rows[("feature_drift", "dataset")]
    assert (dataset["value"], dataset["is_breach"], dataset["status"]) == (1.0, True, "breach")


def test_one_drifted_feature_of_two_reaches_the_default_share() -> None:
    rows = evaluate(observations(units_shift=1.5))
    assert rows[("feature_drift", "units")]["is_breach"] and not rows[("feature_drift", "price")]["is_breach"]
    assert rows[("feature_drift", "dataset")]["value"] == 0.5 and rows[("feature_drift", "dataset")]["is_breach"]
    stricter = evaluate(observations(units_shift=1.5), config=replace(CONFIG, drift_share_threshold=0.75))
    assert not stricter[("feature_drift", "dataset")]["is_breach"]


def test_a_rising_error_is_residual_drift_and_falling_confidence_is_decay() -> None:
    rows = evaluate(observations(error_shift=3.0, confidence_shift=0.7))
    residual, decay = rows[("residual_drift", "predictions")], rows[("confidence_decay", "predictions")]
    assert residual["is_breach"] and residual["value"] == pytest.approx(
        residual["current_value"] / residual["reference_value"] - 1
    )
    assert decay["is_breach"] and decay["value"] == pytest.approx(0.3)


def test_too_little_data_is_insufficient_not_a_breach() -> None:
    rows = evaluate(observations(units_shift=3.0, per_day=2))
    assert {r["status"] for r in rows.values()} == {"insufficient_data"}
    assert not any(r["is_breach"] for r in rows.values())


def test_a_trained_version_is_compared_with_its_manifest_reference() -> None:
    con = duckdb.connect()
    con.register("reference_rows", observations(seed=5))
    reference = summarise(con, long_features_sql("select * from reference_rows", {"units": "units", "price": "price"}))
    active = builtin_active()
    row = dict(active.registry_row) | {
        "model_kind": "trained",
        "holdout_wape": 0.05,
        "training_rows": 2800,
        "reference_distributions": json.dumps(
            {"period": {"start": "2025-05-01", "end": "2025-06-30"}, "features": {f: s.to_dict() for f, s in reference.items()}}
        ),
    }
    trained = ActiveVersion(replace(active.card, model_version="1"), "trained", "reg-1", "apr", row)
    rows = evaluate(observations(units_shift=1.5), trained)
    units = rows[("feature_drift", "units")]
    assert units["reference_source"] == "manifest" and units["reference_start"] == date(2025, 5, 1)
    assert units["is_breach"]
    residual = rows[("residual_drift", "predictions")]
    assert residual["reference_source"] == "manifest" and residual["reference_value"] == 0.05
    assert rows[("confidence_decay", "predictions")]["reference_source"] == "card"


def _written_by(table: pa.Table, run_id: str) -> pa.Table:
    """``table`` as a log holds it: with the per-run columns of the build that wrote it."""
    n = table.num_rows
    table = table.append_column("run_id", pa.array([run_id] * n, pa.string()))
    return table.append_column("scored_at", pa.array([datetime.now(UTC)] * n, pa.timestamp("us", tz="UTC")))


def test_monitoring_depends_on_the_data_not_the_run() -> None:
    first, again = evaluate(_written_by(observations(), "one build")), evaluate(_written_by(observations(), "another"))
    assert {k: r["log_id"] for k, r in first.items()} == {k: r["log_id"] for k, r in again.items()}
    assert {r["evaluation_id"] for r in first.values()} == {r["evaluation_id"] for r in again.values()}
    changed = evaluate(observations(seed=1))
    assert first[("feature_drift", "units")]["log_id"] != changed[("feature_drift", "units")]["log_id"]


def test_every_model_in_the_project_is_monitored() -> None:
    assert set(MONITORS) == set(MODEL_NAMES)


# ---- retrain events -------------------------------------------------------------------------------


def monitoring_table(rows: dict, active: ActiveVersion) -> pa.Table:
    outputs = pa.Table.from_pylist(
        list(rows.values()),
        schema=pa.schema(
            list(MONITORING_LOG.columns) + [pa.field("log_id", pa.string()), pa.field("input_fingerprint", pa.string())]
        ),
    )
    return finalize(outputs, MONITORING_LOG, active.card, RUN)


def test_a_breach_raises_one_reactive_event_with_its_evidence() -> None:
    active = builtin_active()
    evaluation = monitoring_table(evaluate(observations(units_shift=1.5, price_shift=1.3)), active)
    events = retrain_events(evaluation, {"baseline": active}, CONFIG, RUN)
    assert events.column("trigger").to_pylist() == ["reactive"]
    assert events.column("breached_signals").to_pylist() == [["feature_drift:dataset"]]
    dataset_log_id = [r["log_id"] for r in evaluation.to_pylist() if r["subject"] == "dataset"]
    assert events.column("evidence_log_ids").to_pylist() == [dataset_log_id]
    again = retrain_events(evaluation, {"baseline": active}, CONFIG, RunContext("run-2"))
    assert again.column("log_id").to_pylist() == events.column("log_id").to_pylist()


def test_steady_data_raises_no_event_and_an_old_version_a_proactive_one() -> None:
    active = builtin_active()
    evaluation = monitoring_table(evaluate(observations()), active)
    assert retrain_events(evaluation, {"baseline": active}, CONFIG, RUN).num_rows == 0  # built-in: dated after the data
    old = ActiveVersion(replace(active.card, trained_on=LAST - timedelta(days=40)), "trained", "reg", "apr", active.registry_row)
    events = retrain_events(evaluation, {"baseline": old}, CONFIG, RUN)
    assert events.column("trigger").to_pylist() == ["proactive"]
    assert events.column("age_days").to_pylist() == [40]
    assert events.column("proactive_due_on").to_pylist() == [LAST - timedelta(days=40 - CONFIG.proactive_retrain_days)]
    young = ActiveVersion(
        replace(active.card, trained_on=LAST - timedelta(days=10)), "trained", "reg", "apr", active.registry_row
    )
    assert retrain_events(evaluation, {"baseline": young}, CONFIG, RUN).num_rows == 0


def test_an_event_already_logged_is_not_appended_again() -> None:
    active = builtin_active()
    evaluation = monitoring_table(evaluate(observations(units_shift=1.5, price_shift=1.3)), active)
    events = retrain_events(evaluation, {"baseline": active}, CONFIG, RUN)
    con = duckdb.connect()
    con.register("events_batch", events)
    con.execute("create table retrain_log as select * from events_batch")
    assert keep_unlogged(con, retrain_events(evaluation, {"baseline": active}, CONFIG, RUN), "retrain_log").num_rows == 0


# ---- configuration ------------------------------------------------------------------------------------


def test_the_var_overrides_defaults_and_unknown_keys_are_named() -> None:
    config = MonitoringConfig.from_mapping('{"drift_threshold": 0.2, "min_rows": "10"}')
    assert (config.drift_threshold, config.min_rows, config.drift_method) == (0.2, 10, "auto")
    with pytest.raises(MonitoringConfigError, match=r"unknown key\(s\) \['treshold'\]"):
        MonitoringConfig.from_mapping({"treshold": 0.1})
    with pytest.raises(MonitoringConfigError, match="drift_method must be one of"):
        MonitoringConfig(drift_method="chi2")


RATE_SPEC = MonitorSpec(
    "anomaly_classifier",
    as_of="select max(obs_date) from observations",
    detection_rate=lambda v: "select obs_date, detections from observations",
)


def _detections(current_rate: float, reference_rate: float = 0.02, per_day: int = 40, seed: int = 3) -> pa.Table:
    rng = np.random.default_rng(seed)
    days = [LAST - timedelta(days=i) for i in range(70)]
    obs = np.repeat(np.array(days, dtype="datetime64[D]"), per_day)
    current = obs > np.datetime64(LAST - timedelta(days=14))
    return pa.table(
        {"obs_date": pa.array(obs, pa.date32()), "detections": rng.poisson(np.where(current, current_rate, reference_rate))}
    )


def _rate_row(table: pa.Table, active: ActiveVersion) -> dict:
    con = duckdb.connect()
    con.register("observation_rows", table)
    rows = evaluate_model(
        con,
        {"observations": con.table("observation_rows")},
        active,
        {"baseline": "0", "anomaly_classifier": active.card.model_version},
        CONFIG,
        RATE_SPEC,
    )
    return next(r for r in rows if r["signal"] == "detection_rate")


def _trained_classifier(rate: float) -> ActiveVersion:
    active = builtin_active("anomaly_classifier")
    row = dict(active.registry_row) | {
        "model_kind": "trained",
        "metrics": json.dumps({"detections_per_pair_day": rate, "scored_pair_days": 50_000}),
    }
    return ActiveVersion(replace(active.card, model_version="1"), "trained", "reg-1", "apr", row)


def test_a_classifier_that_goes_blind_or_wild_against_its_training_rate_is_a_breach() -> None:
    trained = _trained_classifier(0.02)
    steady = _rate_row(_detections(0.02), trained)
    assert steady["status"] == "ok" and steady["reference_source"] == "manifest" and steady["reference_value"] == 0.02
    blind = _rate_row(_detections(0.0), trained)
    assert blind["is_breach"] and blind["value"] == 0.0
    wild = _rate_row(_detections(0.3), trained)
    assert wild["is_breach"] and wild["value"] > 5


def test_a_builtin_classifier_without_earlier_detections_has_no_rate_to_compare() -> None:
    row = _rate_row(_detections(0.0, reference_rate=0.0), builtin_active("anomaly_classifier"))
    assert row["status"] == "insufficient_data" and not row["is_breach"]


def test_a_model_whose_every_signal_lacks_data_is_reported_unmonitored() -> None:
    from mrs.lifecycle.monitoring import unmonitored_models

    batch = pa.table(
        {
            "model_name": ["baseline", "baseline", "cluster_model", "attribution_model"],
            "model_version": ["0", "0", "0", "0"],
            "status": ["insufficient_data", "insufficient_data", "ok", "insufficient_data"],
        }
    )
    assert unmonitored_models(batch) == {"baseline": "0", "attribution_model": "0"}


# ---- a logged evaluation ------------------------------------------------------------------------------


def test_an_evaluations_id_is_the_one_earlier_builds_logged() -> None:
    # pinned: a change of the id appends the same evaluation again on every warehouse's next build
    # (and a breached one opens a second reactive event). Changed knowingly, twice on 2026-12-07: when
    # the inputs' fingerprint moved from the md5 of each row's text to DuckDB's row hash (12 s of a
    # 10M re-run's monitoring; mrs.duckdb_relations.warehouse_fingerprint), then when it moved from
    # the signals' computed inputs to the SQL and the rows it reads (8.1 -> 1.7 s; _Sql.fingerprint)
    ids = {r["evaluation_id"] for r in evaluate(observations(units_shift=1.5)).values()}
    assert ids == {"7f5af966070099b553b9bc2d75436066"}


def test_a_signal_reading_a_table_that_is_not_monitored_is_an_error() -> None:
    # its rows would not be in the evaluation's fingerprint: a change there would go unseen
    con = duckdb.connect()
    con.register("observation_rows", observations())
    con.execute("create table elsewhere as select 1 as x")
    spec = replace(
        SPEC, confidence=lambda v: "select obs_date, confidence from observations where exists (select 1 from elsewhere)"
    )
    with pytest.raises(MonitoringConfigError, match=r"reads \['elsewhere'\], not a monitored relation"):
        evaluate_model(con, {"observations": con.table("observation_rows")}, builtin_active(), {"baseline": "0"}, CONFIG, spec)


def test_an_evaluation_already_logged_is_not_computed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    con = duckdb.connect()
    con.register("observation_rows", observations(units_shift=1.5))
    relations = {"observations": con.table("observation_rows")}
    first = evaluate_model(con, relations, builtin_active(), {"baseline": "0"}, CONFIG, SPEC, log_relation=None)
    con.register("logged", pa.table({"evaluation_id": [first[0]["evaluation_id"]]}))
    con.execute("create table monitoring_log as select * from logged")

    def not_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("a logged evaluation's statistics were computed again")

    with monkeypatch.context() as patched:
        patched.setattr("mrs.lifecycle.monitoring.summarise", not_again)
        patched.setattr("mrs.lifecycle.monitoring._aggregate", not_again)
        patched.setattr("mrs.lifecycle.monitoring._Sql.materialise", not_again)  # nor its features computed
        again = evaluate_model(con, relations, builtin_active(), {"baseline": "0"}, CONFIG, SPEC, log_relation="monitoring_log")
    assert again == []

    con.register("observation_rows", observations(units_shift=1.6))  # the data moved: a new evaluation, computed
    relations = {"observations": con.table("observation_rows")}
    moved = evaluate_model(con, relations, builtin_active(), {"baseline": "0"}, CONFIG, SPEC, log_relation="monitoring_log")
    assert len(moved) == len(first)
    assert {r["evaluation_id"] for r in moved} != {first[0]["evaluation_id"]}
