"""The learned product-insights forecaster (version 1) and its runner, without dbt."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from mrs.insights.forecaster import (
    FEATURE_NAMES,
    HORIZONS,
    FittedForecaster,
    ForecasterConfig,
    TrainingRows,
    conformal_quantile,
    difficulty_factor,
    fit,
    fit_difficulty,
    forecast_metrics,
    history_features,
    panel_features,
)
from mrs.insights.heuristic import HeuristicModelRunner
from mrs.insights.learned import LearnedModelRunner
from mrs.insights.schema import INSIGHT_SCHEMA, LEARNED_RUNNER_INPUTS
from mrs.insights.training import InsightsTrainingConfig, simulated_panel, training_rows

TRAIN_SEEDS = (101, 102)
PRODUCTS = 80


@pytest.fixture(scope="module")
def fitted() -> tuple[FittedForecaster, dict]:
    worlds = [simulated_panel(seed, PRODUCTS) for seed in TRAIN_SEEDS]
    rows = training_rows([w[0] for w in worlds], InsightsTrainingConfig(simulated_seeds=TRAIN_SEEDS))
    return fit(TrainingRows.from_frame(rows, rows["role"].to_numpy()), ForecasterConfig(), np.concatenate([w[1] for w in worlds]))


def test_conformal_quantile_is_the_finite_sample_rank() -> None:
    scores = np.arange(1, 10, dtype=float)  # n = 9: the ceil(10 * 0.8) = 8th smallest
    assert conformal_quantile(scores, 0.8) == 8.0
    assert conformal_quantile(np.array([3.0, np.nan, 1.0]), 0.5) == 3.0  # ceil(4 * 0.5) = 2nd of [1, 3]


def test_panel_features_equal_the_features_of_the_same_histories_given_as_lists() -> None:
    days = pd.date_range("2025-01-01", periods=40, freq="D").delete([5, 6, 20])
    prices = 100 * np.exp(np.linspace(0, 0.2, len(days))) + np.sin(np.arange(len(days)))
    panel = pd.DataFrame({"series_id": "A", "date": days, "price": prices})
    rows = panel_features(panel, history_points=10)
    k = 30  # a row with a full 10-point window
    history = prices[k - 9 : k + 1]
    ages = (days[k] - days[k - 9 : k + 1]).days.to_numpy()
    expected = history_features([history], [ages])[0]
    np.testing.assert_allclose(rows.loc[k, list(FEATURE_NAMES)].to_numpy(float), expected, equal_nan=True)
    assert rows.loc[k, "last_price"] == prices[k]
    later = panel.set_index("date")["price"]
    assert rows.loc[k, "actual_next_week"] == later.get(days[k] + timedelta(days=7), np.nan) or np.isnan(
        rows.loc[k, "actual_next_week"]
    )


def test_the_forecaster_beats_the_last_price_on_an_unseen_world_with_calibrated_bounds(fitted) -> None:
    model, report = fitted
    for name in HORIZONS:
        chosen = report["horizons"][name]["chosen"]
        candidates = report["horizons"][name]["candidates"]
        assert chosen == min(candidates, key=lambda c: candidates[c]["validation_mape"])
    test = panel_features(simulated_panel(9001, PRODUCTS)[0], model.config.history_points)
    rows = TrainingRows.from_frame(test, np.array(["test"] * len(test)))
    out = model.forecast(rows.features, rows.last_price)
    for name in HORIZONS:
        m = forecast_metrics(rows.actual[name], out[name], out[f"{name}_low"], out[f"{name}_high"], rows.last_price, 0.8)
        assert m["mape"] < m["last_price_mape"], (name, m)
        assert 0.72 <= m["coverage"] <= 0.9, (name, m)
        assert m["median_width"] <= 1.2 * m["last_price_band_width"], (name, m)


def test_the_artefact_text_round_trips_to_the_same_forecasts(fitted) -> None:
    model, _ = fitted
    again = FittedForecaster.from_text(model.to_text())
    features = history_features([[10.0, 10.5, 11.0, 11.2, 11.1, 11.4, 11.6, 11.9]], [[7, 6, 5, 4, 3, 2, 1, 0]])
    a, b = model.forecast(features, np.array([11.9])), again.forecast(features, np.array([11.9]))
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_the_difficulty_model_widens_the_rows_whose_errors_the_scale_understates() -> None:
    rng = np.random.default_rng(5)
    features = rng.normal(size=(4000, len(FEATURE_NAMES)))
    hard = features[:, FEATURE_NAMES.index("vol_1")] > 0
    errors = np.abs(rng.normal(size=4000)) * np.where(hard, 3.0, 1.0)  # normalised errors, 3 x on the hard rows
    factor = difficulty_factor(fit_difficulty(features, errors, ForecasterConfig()), features)
    assert np.median(factor[hard]) / np.median(factor[~hard]) == pytest.approx(3.0, rel=0.25)
    assert np.mean(factor) == pytest.approx(1.0, rel=0.1)


def test_an_artefact_from_before_the_difficulty_model_forecasts_with_the_scale_alone(fitted) -> None:
    import json

    model, _ = fitted
    assert all(h.difficulty_booster_text for h in model.horizons.values())
    text = json.loads(model.to_text())
    del text["config"]["learned_difficulty"]
    for horizon in text["horizons"].values():
        del horizon["difficulty_booster_text"]
    old = FittedForecaster.from_text(json.dumps(text))
    assert not old.config.learned_difficulty
    test = panel_features(simulated_panel(9001, 20)[0], model.config.history_points)
    rows = TrainingRows.from_frame(test, np.array(["test"] * len(test)))
    new_out, old_out = model.forecast(rows.features, rows.last_price), old.forecast(rows.features, rows.last_price)
    for name in HORIZONS:
        np.testing.assert_array_equal(new_out[name], old_out[name])  # the same points
        np.testing.assert_array_equal(old.difficulty(name, rows.features), 1.0)
        assert not np.array_equal(new_out[f"{name}_high"], old_out[f"{name}_high"])  # other bounds


def _feature_rows(histories: list[tuple[str, date, list[tuple[date, float]]]]) -> pa.Table:
    rows = []
    for product_id, as_of, points in histories:
        prices = [p for _, p in points]
        in_7d = [p for d, p in points if (as_of - d).days < 7]
        rows.append(
            {
                "product_id": product_id,
                "as_of_date": as_of,
                "popularity_score": 50,
                "msrp": 40.0,
                "latest_price": prices[-1] if points and points[-1][0] == as_of else None,
                "history_depth": min(len(points), 28),
                "mean_28_points": float(np.mean(prices[-28:])) if points else None,
                "stddev_28_points": None,
                "mean_last_7d": float(np.mean(in_7d)) if in_7d else None,
                "trend_ratio": None,
                "alerts_last_7d": 2,
                "price_history": prices[-90:],
                "price_history_dates": [d for d, _ in points][-90:],
            }
        )
    return pa.Table.from_pylist(rows)


def test_the_runner_falls_back_in_order_and_an_older_last_price_widens_its_bounds(fitted) -> None:
    model, _ = fitted
    runner = LearnedModelRunner(model, "1")
    today = date(2025, 8, 12)
    long = [(today - timedelta(days=k), 30.0 + 0.05 * (40 - k)) for k in range(40, -1, -1)]
    short = [(today - timedelta(days=k), 35.0) for k in (12, 6, 0)]
    table = _feature_rows([("LONG", today, long), ("SHORT", today, short), ("NONE", today, [])])
    out = runner.predict_batch(table)
    assert out.schema == INSIGHT_SCHEMA
    got = {r["product_id"]: r for r in out.to_pylist()}
    assert got["LONG"]["price_source"] == "recent_prices" and got["LONG"]["baseline_source"] == "latest_price"
    assert got["SHORT"]["price_source"] == "last_known_price" and got["SHORT"]["price_forecast_next_week"] == 35.0
    assert got["SHORT"]["msrp_fallback_reason"] is None  # a real price exists: no MSRP fallback
    assert got["NONE"]["price_source"] == "msrp" and got["NONE"]["msrp_fallback_reason"] == "no_price_history"
    assert got["NONE"]["price_forecast_next_week"] == 40.0
    assert all(r["bound_level"] == 0.8 for r in got.values())
    assert got["SHORT"]["price_age_days"] == 0 and got["NONE"]["price_age_days"] is None
    for r in got.values():
        for name in HORIZONS:
            assert r[f"price_forecast_{name}_low"] <= r[f"price_forecast_{name}"] <= r[f"price_forecast_{name}_high"]
        assert 0 <= r["sellout_risk"] <= 1 and 0 <= r["hype_score"] <= 100

    # the same short history seen 20 days after its last price: wider bounds, the age on the row
    older = runner.predict_batch(_feature_rows([("SHORT", today + timedelta(days=20), short)])).to_pylist()[0]
    assert older["price_age_days"] == 20 and older["price_source"] == "last_known_price"
    for name in HORIZONS:
        width = lambda r, name=name: r[f"price_forecast_{name}_high"] - r[f"price_forecast_{name}_low"]  # noqa: E731
        assert width(older) > width(got["SHORT"])


def test_the_heuristic_fingerprint_leaves_out_the_learned_runners_inputs() -> None:
    columns = ["product_id", "as_of_date", "price_history", "latest_price", "price_history_dates"]
    assert HeuristicModelRunner().fingerprint_columns(columns) == ["product_id", "as_of_date", "latest_price"]
    assert set(LEARNED_RUNNER_INPUTS) == {"price_history", "price_history_dates"}


def test_evaluate_insights_prints_the_figures_on_unseen_worlds_and_real_prices() -> None:
    from click.testing import CliRunner

    from mrs.cli import main

    args = ["evaluate", "insights", "--train-seeds", "101,102", "--test-seeds", "9001", "--products", "60"]
    result = CliRunner().invoke(main, args + ["--json"])
    assert result.exit_code == 0, result.output
    figures = __import__("json").loads(result.output)
    assert figures["bound_level"] == 0.8 and "bokeh-sampledata" in figures["real"]["dataset"]
    for data in ("simulated", "real"):
        for horizon in HORIZONS:
            m = figures[data]["horizons"][horizon]
            assert m["rows"] > 100 and 0 < m["coverage"] <= 1 and m["last_price_mape"] > 0
    assert figures["simulated"]["horizons"]["next_week"]["beats_last_price"]
    text = CliRunner().invoke(main, args + ["--no-real"])
    assert text.exit_code == 0 and "simulated seeds 9001" in text.output and "sellout risk: unscored" in text.output
    refused = CliRunner().invoke(main, ["evaluate", "insights", "--train-seeds", "101", "--test-seeds", "101"])
    assert refused.exit_code != 0 and "both training and test seeds" in refused.output
