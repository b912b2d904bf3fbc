"""The heuristic product-insights runner, on feature rows built by hand.

Expected values are worked out by hand from the default HeuristicConfig (version 0):
sparse threshold 7 points, full history 28 points, trend clip [0.8, 1.25];
next week: trend scale 0.5, base half-width 0.05, volatility scale 1.0;
next month: trend scale 2.0, base half-width 0.12, volatility scale 2.0;
widening ×(1 + 1.0 × history shortfall) ×(1 + 0.5 × min(alerts / 20, 1));
confidence clip(depth / 20, 0.4, 0.9); risk clip(0.6 × pop / 100 + 0.03 × alerts, 0, 1);
hype clip(0.7 × pop + 0.3 × min(100, 5 × alerts), 0, 100).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from mrs.insights.config import HeuristicConfig, HorizonConfig
from mrs.insights.factory import get_active_runner
from mrs.insights.heuristic import HeuristicModelRunner
from mrs.insights.runner import InsightsInputError, UnknownProductError
from mrs.insights.schema import FEATURE_SCHEMA, INSIGHT_SCHEMA, PRODUCT_INSIGHTS_LOG
from mrs.versions import UnknownModelVersion, configured_version

AS_OF = date(2025, 8, 12)


def feature_rows(*rows: dict[str, Any]) -> pa.Table:
    """Feature rows as product_insight_inputs has them (only the columns the runner reads,
    plus one it ignores); unspecified values are a flat, calm, full-history product."""
    defaults = dict(
        as_of_date=AS_OF,
        popularity_score=0,
        msrp=100.0,
        latest_price=100.0,
        history_depth=28,
        mean_28_points=100.0,
        stddev_28_points=0.0,
        mean_last_7d=100.0,
        trend_ratio=1.0,
        alerts_last_7d=0,
        product_name="a product",
    )
    full = [{**defaults, **row} for row in rows]
    schema = pa.schema(list(FEATURE_SCHEMA) + [pa.field("product_name", pa.string())])
    return pa.Table.from_pylist(full, schema=schema)


def score(*rows: dict[str, Any], config: HeuristicConfig | None = None) -> list[dict[str, Any]]:
    return HeuristicModelRunner(config).predict_batch(feature_rows(*rows)).to_pylist()


def assert_insight(actual: dict[str, Any], **expected: Any) -> None:
    for column, value in expected.items():
        if isinstance(value, float):
            assert actual[column] == pytest.approx(value, rel=1e-12, abs=1e-12), column
        else:
            assert actual[column] == value, column


def test_flat_full_history_forecasts_the_recent_price_with_base_bounds() -> None:
    [row] = score(
        dict(
            product_id="FLAT",
            msrp=50.0,
            latest_price=40.0,
            mean_last_7d=40.0,
            mean_28_points=40.0,
            stddev_28_points=0.0,
            trend_ratio=1.0,
            alerts_last_7d=0,
            popularity_score=50,
        )
    )
    # baseline 40 (recent), trend 1 → both forecasts 40; no volatility, full history, no alerts:
    # week half-width 40 × 0.05 = 2, month 40 × 0.12 = 4.8
    assert_insight(
        row,
        baseline_price=40.0,
        baseline_source="recent_price",
        msrp_fallback_reason=None,
        trend_ratio_used=1.0,
        price_forecast_next_week=40.0,
        price_forecast_next_week_low=38.0,
        price_forecast_next_week_high=42.0,
        price_forecast_next_month=40.0,
        price_forecast_next_month_low=35.2,
        price_forecast_next_month_high=44.8,
        forecast_confidence=0.9,  # clip(28 / 20) = 0.9
        sellout_risk=0.3,  # 0.6 × 0.5
        hype_score=35.0,  # 0.7 × 50
        discount_vs_msrp=0.2,  # (50 − 40) / 50
        roi_next_week_vs_current=0.0,
        roi_next_month_vs_current=0.0,
        roi_next_week_vs_msrp=-0.2,
        roi_next_month_vs_msrp=-0.2,  # 40 / 50 − 1
        history_depth=28,
        alert_velocity=0,
        popularity_score=50,
        current_price=40.0,
        msrp=50.0,
    )


def test_rising_trend_lifts_the_forecasts_and_volatility_and_alerts_widen_the_bounds() -> None:
    [row] = score(
        dict(
            product_id="RISE",
            msrp=100.0,
            latest_price=112.0,
            mean_last_7d=110.0,
            trend_ratio=1.1,
            mean_28_points=100.0,
            stddev_28_points=5.0,
            alerts_last_7d=4,
            popularity_score=80,
        )
    )
    # week 110 × (1 + 0.1 × 0.5) = 115.5; month 110 × (1 + 0.1 × 2) = 132
    # cv = 5 / 100 = 0.05; widening = (1 + 0) × (1 + 0.5 × 4/20) = 1.1
    # week half-width 115.5 × (0.05 + 0.05) × 1.1 = 12.705; month 132 × (0.12 + 0.1) × 1.1 = 31.944
    assert_insight(
        row,
        baseline_price=110.0,
        baseline_source="recent_price",
        trend_ratio_observed=1.1,
        trend_ratio_used=1.1,
        price_forecast_next_week=115.5,
        price_forecast_next_week_low=102.795,
        price_forecast_next_week_high=128.205,
        price_forecast_next_month=132.0,
        price_forecast_next_month_low=100.056,
        price_forecast_next_month_high=163.944,
        sellout_risk=0.6,  # 0.6 × 0.8 + 0.03 × 4
        hype_score=62.0,  # 0.7 × 80 + 0.3 × min(100, 20)
        discount_vs_msrp=-0.12,  # (100 − 112) / 100
        roi_next_week_vs_current=115.5 / 112 - 1,
        roi_next_month_vs_current=132 / 112 - 1,
        roi_next_week_vs_msrp=0.155,
        roi_next_month_vs_msrp=0.32,
    )


def test_falling_trend_is_clipped_before_it_is_extrapolated() -> None:
    [row] = score(
        dict(
            product_id="FALL",
            msrp=100.0,
            latest_price=58.0,
            mean_last_7d=60.0,
            trend_ratio=0.6,
            mean_28_points=80.0,
            stddev_28_points=0.0,
        )
    )
    # the observed 0.6 is clipped to 0.8: week 60 × (1 − 0.2 × 0.5) = 54, month 60 × (1 − 0.2 × 2) = 36
    # half-widths 54 × 0.05 = 2.7 and 36 × 0.12 = 4.32
    assert_insight(
        row,
        trend_ratio_observed=0.6,
        trend_ratio_used=0.8,
        price_forecast_next_week=54.0,
        price_forecast_next_week_low=51.3,
        price_forecast_next_week_high=56.7,
        price_forecast_next_month=36.0,
        price_forecast_next_month_low=31.68,
        price_forecast_next_month_high=40.32,
        roi_next_week_vs_current=54 / 58 - 1,
        roi_next_month_vs_msrp=-0.64,
        sellout_risk=0.0,
        hype_score=0.0,
    )


def test_sparse_history_falls_back_to_msrp_with_a_neutral_trend_and_wider_bounds() -> None:
    [row] = score(
        dict(
            product_id="SPARSE",
            msrp=30.0,
            latest_price=25.0,
            history_depth=3,
            mean_last_7d=25.0,
            trend_ratio=1.2,
            mean_28_points=26.0,
            stddev_28_points=1.3,
            popularity_score=20,
        )
    )
    # 3 < 7 points: baseline = MSRP 30, trend neutral → forecasts 30
    # cv = 1.3 / 26 = 0.05; widening = 1 + (1 − 3/28) = 53/28
    # week half-width 30 × 0.10 × 53/28; month 30 × 0.22 × 53/28
    week, month = 3.0 * 53 / 28, 6.6 * 53 / 28
    assert_insight(
        row,
        baseline_price=30.0,
        baseline_source="msrp",
        msrp_fallback_reason="sparse_history",
        trend_ratio_observed=1.2,
        trend_ratio_used=1.0,
        price_forecast_next_week=30.0,
        price_forecast_next_week_low=30 - week,
        price_forecast_next_week_high=30 + week,
        price_forecast_next_month=30.0,
        price_forecast_next_month_low=30 - month,
        price_forecast_next_month_high=30 + month,
        forecast_confidence=0.4,  # 3 / 20 = 0.15 → floor 0.4
        sellout_risk=0.12,
        hype_score=14.0,
        discount_vs_msrp=5 / 30,
        roi_next_week_vs_current=0.2,
        roi_next_week_vs_msrp=0.0,
    )


def test_a_product_without_price_history_is_forecast_at_msrp_with_no_current_price_roi() -> None:
    [row] = score(
        dict(
            product_id="EMPTY",
            msrp=20.0,
            latest_price=None,
            history_depth=0,
            mean_last_7d=None,
            trend_ratio=None,
            mean_28_points=None,
            stddev_28_points=None,
            popularity_score=10,
        )
    )
    # baseline MSRP 20; no history doubles the bounds: week 20 × 0.05 × 2 = 2, month 20 × 0.12 × 2 = 4.8
    assert_insight(
        row,
        baseline_price=20.0,
        baseline_source="msrp",
        msrp_fallback_reason="no_price_history",
        trend_ratio_observed=None,
        trend_ratio_used=1.0,
        current_price=None,
        history_depth=0,
        price_forecast_next_week=20.0,
        price_forecast_next_week_low=18.0,
        price_forecast_next_week_high=22.0,
        price_forecast_next_month=20.0,
        price_forecast_next_month_low=15.2,
        price_forecast_next_month_high=24.8,
        discount_vs_msrp=None,
        roi_next_week_vs_current=None,
        roi_next_month_vs_current=None,
        roi_next_week_vs_msrp=0.0,
        roi_next_month_vs_msrp=0.0,
        forecast_confidence=0.4,
        sellout_risk=0.06,
        hype_score=7.0,
    )


def test_an_alert_burst_saturates_risk_and_widens_the_bounds_by_half() -> None:
    calm, burst = score(
        dict(
            product_id="CALM",
            msrp=50.0,
            latest_price=50.0,
            mean_last_7d=50.0,
            mean_28_points=50.0,
            alerts_last_7d=0,
            popularity_score=90,
        ),
        dict(
            product_id="BURST",
            msrp=50.0,
            latest_price=50.0,
            mean_last_7d=50.0,
            mean_28_points=50.0,
            alerts_last_7d=30,
            popularity_score=90,
        ),
    )
    # calm: risk 0.54, hype 63, week ±2.5, month ±6
    assert_insight(
        calm, sellout_risk=0.54, hype_score=63.0, price_forecast_next_week_low=47.5, price_forecast_next_month_high=56.0
    )
    # burst: 30 alerts ≥ 20 saturate: risk 0.54 + 0.9 → 1, hype 63 + 0.3 × min(100, 150) = 93,
    # bounds × 1.5: week 50 × 0.05 × 1.5 = 3.75, month 50 × 0.12 × 1.5 = 9
    assert_insight(
        burst,
        alert_velocity=30,
        sellout_risk=1.0,
        hype_score=93.0,
        price_forecast_next_week=50.0,
        price_forecast_next_week_low=46.25,
        price_forecast_next_week_high=53.75,
        price_forecast_next_month=50.0,
        price_forecast_next_month_low=41.0,
        price_forecast_next_month_high=59.0,
    )


def test_no_previous_week_means_a_neutral_trend_on_the_recent_price() -> None:
    [row] = score(dict(product_id="NEW", history_depth=7, mean_last_7d=80.0, trend_ratio=None))
    assert_insight(row, baseline_source="recent_price", baseline_price=80.0, trend_ratio_used=1.0, price_forecast_next_month=80.0)


def test_the_sparse_threshold_is_configuration() -> None:
    row = dict(product_id="P", history_depth=5, mean_last_7d=90.0, msrp=100.0)
    assert score(row)[0]["baseline_source"] == "msrp"
    assert score(row, config=HeuristicConfig(sparse_history_threshold=5))[0]["baseline_price"] == 90.0


def test_bounds_contain_the_forecasts_over_a_grid_of_products() -> None:
    rng = np.random.default_rng(7)
    n = 500
    depth = rng.integers(0, 29, n)
    mean7 = rng.uniform(5, 300, n)
    rows = [
        dict(
            product_id=f"P{i}",
            history_depth=int(depth[i]),
            msrp=float(rng.uniform(5, 300)),
            latest_price=float(mean7[i]) if depth[i] else None,
            mean_last_7d=float(mean7[i]) if depth[i] else None,
            mean_28_points=float(mean7[i]) if depth[i] else None,
            stddev_28_points=float(rng.uniform(0, 50)) if depth[i] > 1 else None,
            trend_ratio=float(rng.uniform(0.3, 3)) if depth[i] > 7 else None,
            alerts_last_7d=int(rng.integers(0, 60)),
            popularity_score=int(rng.integers(0, 101)),
        )
        for i in range(n)
    ]
    out = HeuristicModelRunner().predict_batch(feature_rows(*rows))
    for horizon in ("next_week", "next_month"):
        point = out.column(f"price_forecast_{horizon}").to_numpy()
        assert (out.column(f"price_forecast_{horizon}_low").to_numpy() <= point).all()
        assert (point <= out.column(f"price_forecast_{horizon}_high").to_numpy()).all()
        assert (out.column(f"price_forecast_{horizon}_low").to_numpy() >= 0).all()
    risk, hype = out.column("sellout_risk").to_numpy(), out.column("hype_score").to_numpy()
    assert ((0 <= risk) & (risk <= 1)).all() and ((0 <= hype) & (hype <= 100)).all()


def test_same_inputs_give_identical_outputs_in_input_order() -> None:
    rows = [dict(product_id=f"P{i}", mean_last_7d=50.0 + i, trend_ratio=0.9 + i / 50, alerts_last_7d=i) for i in range(10)]
    first = HeuristicModelRunner().predict_batch(feature_rows(*rows))
    again = HeuristicModelRunner().predict_batch(feature_rows(*rows))
    reversed_ = HeuristicModelRunner().predict_batch(feature_rows(*rows[::-1]))
    assert first.equals(again)
    assert reversed_.to_pylist() == first.to_pylist()[::-1]


def test_output_has_the_declared_schema_even_for_no_rows() -> None:
    empty = HeuristicModelRunner().predict_batch(feature_rows())
    assert empty.num_rows == 0 and empty.schema == INSIGHT_SCHEMA
    assert INSIGHT_SCHEMA.names == list(PRODUCT_INSIGHTS_LOG.column_names)


def test_a_null_msrp_is_reported_with_table_column_and_rows() -> None:
    with pytest.raises(InsightsInputError, match=r"product_insight_inputs\.msrp: 1 null.*BAD"):
        score(dict(product_id="OK"), dict(product_id="BAD", msrp=None))


def test_a_non_positive_msrp_and_a_missing_column_are_reported() -> None:
    with pytest.raises(InsightsInputError, match=r"msrp must be > 0.*ZERO"):
        score(dict(product_id="ZERO", msrp=0.0))
    with pytest.raises(InsightsInputError, match=r"missing column\(s\) \['alerts_last_7d'\]"):
        HeuristicModelRunner().predict_batch(feature_rows(dict(product_id="P")).drop_columns(["alerts_last_7d"]))


def test_invalid_configuration_is_rejected() -> None:
    with pytest.raises(ValueError, match="trend ratio clip"):
        HeuristicConfig(trend_ratio_min=1.1)
    with pytest.raises(ValueError, match="half-widths"):
        HeuristicConfig(next_week=HorizonConfig(trend_scale=0.5, base_halfwidth=-0.1, volatility_scale=1.0))


class _Features:
    """A feature source over an in-memory table: each product's latest row."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table

    def latest_features(self, product_id: str) -> pa.Table:
        rows = [r for r in self.table.to_pylist() if r["product_id"] == product_id]
        rows = sorted(rows, key=lambda r: r["as_of_date"])[-1:]
        return pa.Table.from_pylist(rows, schema=self.table.schema)


def test_predict_scores_the_latest_feature_row_of_one_product() -> None:
    source = _Features(
        feature_rows(
            dict(product_id="A", as_of_date=AS_OF - timedelta(days=1), mean_last_7d=10.0),
            dict(product_id="A", as_of_date=AS_OF, mean_last_7d=12.0),
            dict(product_id="B", mean_last_7d=99.0),
        )
    )
    runner = get_active_runner("product_insights", version="0", features=source)
    insight = runner.predict("A")
    assert insight["as_of_date"] == AS_OF and insight["baseline_price"] == 12.0
    with pytest.raises(UnknownProductError, match="'NOPE'"):
        runner.predict("NOPE")


def test_the_factory_returns_the_runner_the_project_configures(tmp_path) -> None:
    (tmp_path / "dbt_project.yml").write_text("vars:\n  active_model_versions:\n    product_insights: '0'\n")
    assert configured_version("product_insights", tmp_path) == "0"
    assert isinstance(get_active_runner("product_insights", project_dir=tmp_path), HeuristicModelRunner)
    (tmp_path / "dbt_project.yml").write_text("vars:\n  active_model_versions:\n    product_insights: '9'\n")
    with pytest.raises(UnknownModelVersion, match="no version '9'"):
        get_active_runner("product_insights", project_dir=tmp_path)
    (tmp_path / "dbt_project.yml").write_text("vars: {}\n")
    with pytest.raises(UnknownModelVersion, match="no vars.active_model_versions.product_insights"):
        get_active_runner("product_insights", project_dir=tmp_path)
