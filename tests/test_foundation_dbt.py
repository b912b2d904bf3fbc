"""The foundation: seeds → staging → windowed features, checked against independent computations."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from conftest import PROJECT_ROOT, Warehouse

pytestmark = pytest.mark.integration

SEEDS = PROJECT_ROOT / "seeds"


def read_seed(name: str) -> pd.DataFrame:
    return pd.read_csv(SEEDS / f"{name}.csv", dtype=str, keep_default_na=False)


def test_build_leaves_raw_staging_and_feature_tables(built_warehouse: Warehouse) -> None:
    tables = {
        (schema, name) for schema, name in built_warehouse.query("select table_schema, table_name from information_schema.tables")
    }
    expected = {
        ("raw", "sales_northmart"),
        ("raw", "sales_coastco"),
        ("raw", "stores"),
        ("raw", "prices"),
        ("staging", "stg_northmart__sales"),
        ("staging", "stg_coastco__sales"),
        ("staging", "stg_price_tracker__prices"),
        ("intermediate", "unified_sales_data"),
        ("intermediate", "int_sales_features"),
        ("intermediate", "int_price_windows"),
        ("intermediate", "int_alert_velocity"),
    }
    assert expected <= tables, expected - tables


def test_unified_sales_data_has_one_row_per_store_sku_day(built_warehouse: Warehouse) -> None:
    stores, skus = len(read_seed("stores")), len(read_seed("skus"))
    feed_days = pd.concat(
        [
            pd.to_datetime(read_seed("sales_northmart")["date"]),
            pd.to_datetime(read_seed("sales_coastco")["TXN_DATE"], format="%Y%m%d"),
        ]
    )
    days = (feed_days.max() - feed_days.min()).days + 1
    rows, keys = built_warehouse.query(
        "select count(*), count(distinct (store_id, sku_id, sales_date)) from intermediate.unified_sales_data"
    )[0]
    assert rows == keys == stores * skus * days


def test_unified_sales_data_totals_match_both_feeds(built_warehouse: Warehouse) -> None:
    northmart, coastco = read_seed("sales_northmart"), read_seed("sales_coastco")
    units = northmart["units"].astype(int).sum() + coastco["QTY"].astype(int).sum()
    revenue = northmart["net_sales"].astype(float).sum() + coastco["SALES_CENTS"].astype(int).sum() / 100
    got_units, got_revenue, zero_filled = built_warehouse.query(
        "select sum(units_sold), sum(revenue), count(*) filter (where is_zero_filled) from intermediate.unified_sales_data"
    )[0]
    assert got_units == units
    assert got_revenue == pytest.approx(revenue)
    total = built_warehouse.scalar("select count(*) from intermediate.unified_sales_data")
    assert zero_filled == total - len(northmart) - len(coastco)


def independent_price_trends() -> dict[tuple[str, date], float | None]:
    """The 7-day trend per product and as-of day, computed here without SQL windows."""
    prices = read_seed("prices")
    prices["price"] = prices["price"].astype(float)
    prices["observed_on"] = pd.to_datetime(prices["observed_on"]).dt.date
    daily = prices.groupby(["product_id", "observed_on"])["price"].mean()
    trends: dict[tuple[str, date], float | None] = {}
    for product_id, series in daily.groupby(level=0):
        points = {day: price for (_, day), price in series.items()}
        for as_of in points:
            last = [p for d, p in points.items() if as_of - timedelta(days=7) < d <= as_of]
            prev = [p for d, p in points.items() if as_of - timedelta(days=14) < d <= as_of - timedelta(days=7)]
            trends[(product_id, as_of)] = (sum(last) / len(last)) / (sum(prev) / len(prev)) if prev else None
    return trends


def test_price_window_trend_matches_an_independent_computation(built_warehouse: Warehouse) -> None:
    expected = independent_price_trends()
    got = {
        (product_id, as_of): trend
        for product_id, as_of, trend in built_warehouse.query(
            "select product_id, as_of_date, trend_ratio from intermediate.int_price_windows where history_depth > 0"
        )
    }
    assert got.keys() == expected.keys()
    products_checked = {product for product, _ in expected}
    assert len(products_checked) == len(read_seed("prices")["product_id"].unique())
    for key, trend in expected.items():
        assert got[key] == pytest.approx(trend), key


def test_products_without_history_get_one_empty_window(built_warehouse: Warehouse) -> None:
    priced = set(read_seed("prices")["product_id"])
    unpriced = set(read_seed("products")["product_id"]) - priced
    assert unpriced, "the demo world should include products without price history"
    rows = built_warehouse.query(
        "select product_id, history_depth, latest_price from intermediate.int_price_windows "
        f"where product_id in ({', '.join(repr(p) for p in unpriced)})"
    )
    assert sorted(r[0] for r in rows) == sorted(unpriced)
    assert all(depth == 0 and latest is None for _, depth, latest in rows)


def test_sales_features_match_an_independent_computation(built_warehouse: Warehouse) -> None:
    store_id, sku_id = built_warehouse.query(
        "select store_id, sku_id from intermediate.unified_sales_data group by 1, 2 order by sum(units_sold) desc limit 1"
    )[0]
    frame = pd.DataFrame(
        built_warehouse.query(
            "select sales_date, units_sold, rolling_mean_7d, rolling_median_28d, lag_7d, lag_14d, trend_coef_28d "
            f"from intermediate.int_sales_features where store_id = '{store_id}' and sku_id = '{sku_id}' "
            "order by sales_date"
        ),
        columns=["sales_date", "units", "mean7", "median28", "lag7", "lag14", "trend"],
    )
    units = frame["units"].astype(float)
    previous = units.shift(1)
    pd.testing.assert_series_equal(frame["mean7"].astype(float), previous.rolling(7, min_periods=1).mean(), check_names=False)
    pd.testing.assert_series_equal(
        frame["median28"].astype(float), previous.rolling(28, min_periods=1).median(), check_names=False
    )
    pd.testing.assert_series_equal(frame["lag7"].astype(float), units.shift(7), check_names=False)
    pd.testing.assert_series_equal(frame["lag14"].astype(float), units.shift(14), check_names=False)
    day = 60
    window = units.iloc[day - 28 : day].to_numpy()
    slope = pd.Series(window).cov(pd.Series(range(28), dtype=float)) / pd.Series(range(28), dtype=float).var()
    assert frame["trend"].iloc[day] == pytest.approx(slope)


def replace_in_seed(project: Path, seed: str, row_index: int, column: str, value: str) -> None:
    path = project / "seeds" / f"{seed}.csv"
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    rows[row_index][column] = value
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_negative_sales_fail_the_build_naming_model_column_and_test(project_copy: Warehouse) -> None:
    replace_in_seed(project_copy.project_dir, "sales_northmart", 3, "units", "-4")
    result = project_copy.dbt("build", check=False)
    assert result.returncode != 0
    assert "Failure in test stg_northmart__sales_units_sold_not_negative" in result.stdout
    assert "unified_sales_data" not in _built_models(result.stdout)


def test_unknown_store_fails_the_build_naming_model_column_and_test(project_copy: Warehouse) -> None:
    replace_in_seed(project_copy.project_dir, "sales_coastco", 5, "STORE_NBR", "999")
    result = project_copy.dbt("build", check=False)
    assert result.returncode != 0
    assert "Failure in test stg_coastco__sales_store_ref_is_a_known_store" in result.stdout
    assert "unified_sales_data" not in _built_models(result.stdout)


def _built_models(stdout: str) -> str:
    return "\n".join(line for line in stdout.splitlines() if " OK created " in line)
