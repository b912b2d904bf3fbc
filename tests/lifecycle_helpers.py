"""A small synthetic warehouse for the lifecycle's unit tests: ``intermediate.int_sales_features``
computed with the same windows as the dbt model, from seeded Poisson sales with a weekly pattern."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

START = date(2025, 5, 1)
WEEKDAY = np.array([0.8, 0.85, 0.9, 1.0, 1.15, 1.35, 0.95])  # Monday..Sunday


def synthetic_sales(days: int = 84, stores: int = 6, skus: int = 4, seed: int = 7, level_shift_days: int = 0,
                    level_shift: float = 1.0) -> pa.Table:
    """Daily units per store × SKU: level × weekday profile, Poisson noise; optionally the last
    ``level_shift_days`` days multiplied by ``level_shift``."""
    rng = np.random.default_rng(seed)
    dates = [START + timedelta(days=i) for i in range(days)]
    dow = np.array([d.weekday() for d in dates])
    rows = {"store_id": [], "sku_id": [], "sales_date": [], "units_sold": [], "store_type": [], "category": []}
    for s in range(stores):
        for k in range(skus):
            level = rng.uniform(2, 20)
            mu = level * WEEKDAY[dow]
            if level_shift_days:
                mu[-level_shift_days:] *= level_shift
            rows["store_id"] += [f"ST{s:03d}"] * days
            rows["sku_id"] += [f"SKU-{k:04d}"] * days
            rows["sales_date"] += dates
            rows["units_sold"] += rng.poisson(mu).tolist()
            rows["store_type"] += [("hypermarket", "supermarket", "convenience")[s % 3]] * days
            rows["category"] += [("snacks", "dairy")[k % 2]] * days
    return pa.table(rows)


FEATURES_SQL = """
create schema if not exists intermediate;
create or replace table intermediate.int_sales_features as
select
    store_id, sku_id, sales_date, 'northmart' as retailer, 'north' as region, store_type, category,
    2.5 as unit_price, units_sold, isodow(sales_date) as day_of_week,
    count(units_sold) over w28 as history_days_28d,
    avg(units_sold) over w7 as rolling_mean_7d,
    median(units_sold) over w7 as rolling_median_7d,
    avg(units_sold) over w28 as rolling_mean_28d,
    median(units_sold) over w28 as rolling_median_28d,
    lag(units_sold, {season}) over s as lag_7d,
    lag(units_sold, {two_seasons}) over s as lag_14d,
    regr_slope(units_sold, date_diff('day', date '2000-01-01', sales_date)) over w28 as trend_coef_28d,
    0 as active_campaigns, 0.0 as campaign_discount_pct, false as is_holiday, false as has_weather_event,
    false as has_local_event, false as has_supply_disruption, 0.0 as max_event_severity
from sales
window s as (partition by store_id, sku_id order by sales_date),
       w7 as (partition by store_id, sku_id order by sales_date rows between 7 preceding and 1 preceding),
       w28 as (partition by store_id, sku_id order by sales_date rows between 28 preceding and 1 preceding)
"""


def build_warehouse(path: Path, sales: pa.Table | None = None, season: int = 7) -> Path:
    """A DuckDB file with ``intermediate.int_sales_features`` over ``sales`` (default: synthetic_sales());
    ``season`` is the season in periods (7 at daily grain, 52 at weekly grain) of the lags."""
    with duckdb.connect(str(path)) as con:
        con.register("sales", sales if sales is not None else synthetic_sales())
        con.execute(FEATURES_SQL.format(season=season, two_seasons=2 * season))
    return path


def synthetic_weekly_sales(weeks: int = 130, stores: int = 4, skus: int = 4, seed: int = 11) -> pa.Table:
    """Weekly units per store × SKU (one row per 7 days from START): level × a yearly wave,
    Poisson noise."""
    rng = np.random.default_rng(seed)
    dates = [START + timedelta(days=7 * i) for i in range(weeks)]
    season = 1 + 0.3 * np.sin(2 * np.pi * np.arange(weeks) / 52)
    rows = {"store_id": [], "sku_id": [], "sales_date": [], "units_sold": [], "store_type": [], "category": []}
    for s in range(stores):
        for k in range(skus):
            level = rng.uniform(30, 150)
            rows["store_id"] += [f"ST{s:03d}"] * weeks
            rows["sku_id"] += [f"SKU-{k:04d}"] * weeks
            rows["sales_date"] += dates
            rows["units_sold"] += rng.poisson(level * season).tolist()
            rows["store_type"] += [("hypermarket", "supermarket", "convenience")[s % 3]] * weeks
            rows["category"] += [("snacks", "dairy")[k % 2]] * weeks
    return pa.table(rows)
