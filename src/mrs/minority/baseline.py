"""Baseline: expected units per store × SKU × day (the ``baseline`` model, ``baseline_log``).

Version "0" is the MVP heuristic baseline: the median of the same weekday over the previous four
weeks, times a bounded trend factor. Days inside the anomaly window never enter any baseline, so
a day in the window is predicted from the weeks before it and the window cannot contaminate its
own baseline.

The windowing runs in DuckDB SQL (:func:`baseline_inputs`): trailing same-weekday medians and
exact integer trend sums over the history, matched to each scored day with an ``ASOF`` join on
the latest history day before it. Python (:func:`predict_batch`) only turns those statistics into
the expected value, vectorised over the batch. A build scores the anomaly window and the recent
history (``vars.baseline_scoring_periods``), and only the rows whose ``log_id`` is new.
"""

from __future__ import annotations

import math
from datetime import date
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mrs.duckdb_relations import query_relation
from mrs.logs import ModelCard, score_new_rows
from mrs.minority.config import BaselineConfig, BaselineScoring, MinorityConfigError
from mrs.minority.relations import sql_over
from mrs.minority.schemas import BASELINE_LOG

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

BASELINE_VERSIONS: dict[str, BaselineConfig] = {
    # "MVP heuristic baseline": four same weekdays, 28-day trend bounded to ±10 %.
    "0": BaselineConfig(),
    # The same heuristic with a six-week same-weekday look-back: steadier, slower to follow change.
    "0.1": BaselineConfig(lookback_weeks=6),
}
"""The configuration each built-in baseline version runs with (a version fixes its configuration)."""

SALES_COLUMNS: tuple[str, ...] = ("store_id", "sku_id", "sales_date", "units_sold")
"""What the baseline reads from ``unified_sales_data``."""


def baseline_config(version: str) -> BaselineConfig:
    try:
        return BASELINE_VERSIONS[str(version)]
    except KeyError:
        raise MinorityConfigError(
            f"baseline version {version!r} has no configuration in mrs.minority.baseline.BASELINE_VERSIONS "
            f"(known: {sorted(BASELINE_VERSIONS)})"
        ) from None


def history_margin_days(config: BaselineConfig, scoring: BaselineScoring) -> int:
    """Days of history before the first scored day that the statistics of any scored day can reach.

    A scored period right after the anomaly window looks back past the whole window to its last
    ``lookback_weeks`` same periods, and over ``trend_days`` periods; one season of slack on top.
    """
    period, season = scoring.grain.period_days, scoring.grain.season_periods
    window_periods = math.ceil(scoring.window.days / period) if scoring.window else 0
    window_seasons = math.ceil(window_periods / season)
    periods = max(season * (config.lookback_weeks + window_seasons), config.trend_days + window_periods) + season
    return periods * period


def sales_date_range(sales: duckdb.DuckDBPyRelation) -> tuple[date | None, date | None]:
    """First and last ``sales_date`` of the sales relation (None, None when it is empty)."""
    low, high = query_relation(
        sales, "mrs_sales_range", "select min(sales_date), max(sales_date) from mrs_sales_range"
    ).fetchall()[0]
    return low, high


def baseline_inputs_sql(config: BaselineConfig, scoring: BaselineScoring) -> str:
    """SQL over a relation ``sales`` (store_id, sku_id, sales_date, units_sold): one row per scored
    store × SKU × day with the history statistics its baseline is computed from."""
    # the last lookback_weeks same weekdays as a list (lags are far cheaper than a median frame)
    weeks_back = range(1, config.lookback_weeks)
    units_weeks = ", ".join(["units_sold"] + [f"lag(units_sold, {k}) over same_weekday" for k in weeks_back])
    day_weeks = ", ".join(["day_number"] + [f"lag(day_number, {k}) over same_weekday" for k in weeks_back])
    grain = scoring.grain
    # the position in the season that "same period" matches on: the weekday at daily grain, the
    # week of the 52-week season at weekly grain; day_number counts periods (days or weeks)
    day_number = "date_diff('day', date '2000-01-01', sales_date)"
    if grain.name == "day":
        season_position = "isodow(sales_date)"
    else:
        day_number = f"({day_number} // {grain.period_days})"
        season_position = f"({day_number} % {grain.season_periods})"
    trend_frame = (
        f"partition by store_id, sku_id order by sales_date rows between {config.trend_days - 1} preceding and current row"
    )
    return f"""
    with days as (
        select
            store_id,
            sku_id,
            cast(sales_date as date) as sales_date,
            cast(units_sold as bigint) as units_sold,
            cast(isodow(sales_date) as integer) as day_of_week,
            cast({season_position} as integer) as season_position,
            cast({day_number} as bigint) as day_number,
            {scoring.in_window_sql("sales_date")} as in_anomaly_window
        from sales
    ),
    scoring_range as (
        select {scoring.first_scored_day_sql("max(sales_date)")} as first_scored_day
        from days
    ),
    -- the only days a baseline learns from: outside the anomaly window, recent enough to be reached
    history as (
        select days.*
        from days, scoring_range
        where not days.in_anomaly_window
          and days.sales_date >= {scoring.first_day_sql("first_scored_day")} - {history_margin_days(config, scoring)}
    ),
    -- as of each history day: its last {config.lookback_weeks} same weekdays (itself included; nulls before the first)
    same_weekday_lists as (
        select
            store_id, sku_id, season_position, sales_date,
            list_value({units_weeks}) as units_by_week,
            list_value({day_weeks}) as day_number_by_week
        from history
        window same_weekday as (partition by store_id, sku_id, season_position order by sales_date)
    ),
    same_weekday_history as (
        select
            store_id, sku_id, season_position, sales_date,
            list_median(units_by_week) as same_weekday_median,
            cast(list_count(units_by_week) as integer) as same_weekday_weeks,
            cast(list_sum(day_number_by_week) as bigint) as same_weekday_day_sum
        from same_weekday_lists
    ),
    -- as of each history day: exact integer sums of its last {config.trend_days} days for a least-squares
    -- slope (bigint: day numbers since 2000 and daily units keep them far from overflow)
    trend_history as (
        select
            store_id, sku_id, sales_date,
            cast(count(*) over trend as integer) as trend_days,
            cast(sum(day_number) over trend as bigint) as trend_sum_x,
            cast(sum(units_sold) over trend as bigint) as trend_sum_y,
            cast(sum(day_number * units_sold) over trend as bigint) as trend_sum_xy,
            cast(sum(day_number * day_number) over trend as bigint) as trend_sum_xx
        from history
        window trend as ({trend_frame})
    ),
    scored_days as (
        select days.*
        from days, scoring_range
        where {scoring.scored_days_sql("first_scored_day", "days.sales_date")}
    ),
    -- each scored day takes the statistics of the latest history day strictly before it
    with_same_weekday as (
        select scored_days.*, h.same_weekday_median, h.same_weekday_weeks, h.same_weekday_day_sum
        from scored_days
        asof left join same_weekday_history as h
            on scored_days.store_id = h.store_id
            and scored_days.sku_id = h.sku_id
            and scored_days.season_position = h.season_position
            and scored_days.sales_date > h.sales_date
    ),
    with_trend as (
        select with_same_weekday.*, t.trend_days, t.trend_sum_x, t.trend_sum_y, t.trend_sum_xy, t.trend_sum_xx
        from with_same_weekday
        asof left join trend_history as t
            on with_same_weekday.store_id = t.store_id
            and with_same_weekday.sku_id = t.sku_id
            and with_same_weekday.sales_date > t.sales_date
    )
    select
        store_id, sku_id, sales_date, day_of_week, day_number, in_anomaly_window,
        units_sold as actual_units,
        same_weekday_median, same_weekday_weeks, same_weekday_day_sum,
        coalesce(trend_days, 0) as trend_days,
        coalesce(trend_sum_x, 0) as trend_sum_x,
        coalesce(trend_sum_y, 0) as trend_sum_y,
        coalesce(trend_sum_xy, 0) as trend_sum_xy,
        coalesce(trend_sum_xx, 0) as trend_sum_xx
    from with_trend
    -- a day with no same-weekday history outside the window has no baseline
    where same_weekday_median is not null
    """


def baseline_inputs(
    con: duckdb.DuckDBPyConnection,
    sales: duckdb.DuckDBPyRelation,
    config: BaselineConfig,
    scoring: BaselineScoring,
) -> duckdb.DuckDBPyRelation:
    """The scored days with their history statistics, as a lazy DuckDB relation."""
    missing = [c for c in SALES_COLUMNS if c not in sales.columns]
    if missing:
        raise MinorityConfigError(f"baseline: the sales relation (unified_sales_data) has no column(s) {missing}")
    return sql_over(con, {"sales": sales}, baseline_inputs_sql(config, scoring))


def _int64(batch: pa.Table, column: str) -> np.ndarray:
    return batch.column(column).to_numpy().astype(np.int64)


def _float64(batch: pa.Table, column: str) -> np.ndarray:
    return batch.column(column).to_numpy().astype(np.float64)


def predict_batch(inputs: pa.Table, config: BaselineConfig) -> pa.Table:
    """Expected units for each row of :func:`baseline_inputs`: the same-weekday median times
    ``clip(1 + slope * horizon / median, 1 - a, 1 + a)``, i.e. the median moved along the trend
    line to the scored day, by at most ``a`` (``max_trend_adjustment``) of itself.

    The slope is the least-squares slope of daily units over the trend days and the horizon the
    days from the centre of the same weekdays in the median to the scored day. With fewer than two
    trend days, no sales in them or a zero median, the factor is 1.
    """
    n = _int64(inputs, "trend_days")
    sum_x, sum_y = _int64(inputs, "trend_sum_x"), _int64(inputs, "trend_sum_y")
    sum_xy, sum_xx = _int64(inputs, "trend_sum_xy"), _int64(inputs, "trend_sum_xx")
    # integer arithmetic: exact, so the same history always gives the same bits
    numerator = n * sum_xy - sum_x * sum_y
    denominator = n * sum_xx - sum_x * sum_x
    median = _float64(inputs, "same_weekday_median")
    usable = (n >= 2) & (denominator > 0) & (sum_y > 0) & (median > 0)
    slope = np.where(usable, numerator / np.where(usable, denominator, 1), 0.0)
    weeks = _int64(inputs, "same_weekday_weeks")
    centre = _int64(inputs, "same_weekday_day_sum") / np.maximum(weeks, 1)
    horizon = _int64(inputs, "day_number") - centre
    trend_factor = np.clip(
        1.0 + slope * horizon / np.where(usable, median, 1.0),
        1.0 - config.max_trend_adjustment,
        1.0 + config.max_trend_adjustment,
    )
    expected = median * trend_factor
    actual = _int64(inputs, "actual_units")
    return pa.table(
        {
            "store_id": inputs.column("store_id"),
            "sku_id": inputs.column("sku_id"),
            "sales_date": inputs.column("sales_date"),
            "day_of_week": pc.cast(inputs.column("day_of_week"), pa.int32()),
            "in_anomaly_window": inputs.column("in_anomaly_window"),
            "actual_units": pa.array(actual, pa.int64()),
            "expected_units": pa.array(expected, pa.float64()),
            "residual_units": pa.array(actual - expected, pa.float64()),
            "same_weekday_median": pa.array(median, pa.float64()),
            "same_weekday_weeks": pa.array(weeks, pa.int32()),
            "trend_factor": pa.array(trend_factor, pa.float64()),
            "trend_days": pa.array(n, pa.int32()),
        }
    )


def score_baseline(
    con: duckdb.DuckDBPyConnection,
    sales: duckdb.DuckDBPyRelation,
    *,
    card: ModelCard,
    scoring: BaselineScoring,
    log_relation: str | None,
) -> pa.Table:
    """The ``baseline_log`` step: the new baseline rows of the card's version, typed for the log."""
    config = baseline_config(card.model_version)
    return score_new_rows(
        baseline_inputs(con, sales, config, scoring),
        spec=BASELINE_LOG,
        card=card,
        log_relation=log_relation,
        predict=partial(predict_batch, config=config),
    )
