"""Baseline: expected units per store × SKU × day (the ``baseline`` model, ``baseline_log``).

Version "0" is the MVP heuristic baseline: the median of the same weekday over the previous four
weeks, times a bounded trend factor. Days inside the anomaly window never enter any baseline, so
a day in the window is predicted from the weeks before it and the window cannot contaminate its
own baseline.

The windowing runs in SQL (:func:`baseline_inputs`, rendered from the ``baseline_inputs`` macro of
``src/mrs/sql/baseline_rules.sql``): trailing same-weekday medians and exact integer trend sums over
the history, matched to each scored day on the latest history day before it. Python
(:func:`predict_batch`) only turns those statistics into the expected value, vectorised over the
batch. A build scores the anomaly window and the recent
history (``vars.baseline_scoring_periods``), and only the rows whose ``log_id`` is new.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mrs.duckdb_relations import query_relation, warehouse_fingerprint
from mrs.lifecycle.schemas import stable_id
from mrs.logs import ModelCard, holds_value, package_fingerprint, score_new_rows
from mrs.minority.config import BaselineConfig, BaselineScoring, MinorityConfigError
from mrs.minority.relations import sql_over
from mrs.minority.schemas import BASELINE_LOG
from mrs.sql_rules import ENGINE, macros
from mrs.step_log import log_step

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


def baseline_inputs_sql(
    config: BaselineConfig, scoring: BaselineScoring, engine: str = ENGINE, median_function: str = "median"
) -> str:
    """SQL over a relation ``sales`` (store_id, sku_id, sales_date, units_sold): one row per scored
    store × SKU × day with the history statistics its baseline is computed from, rendered from the
    ``baseline_inputs`` macro (``src/mrs/sql/baseline_rules.sql``) for ``engine``; any engine but
    DuckDB gets the portable spelling, whose window median is ``median_function``."""
    grain = scoring.grain
    rendered = macros().baseline_inputs(
        "sales",
        config.lookback_weeks,
        config.trend_days,
        {"name": grain.name, "period_days": grain.period_days, "season_periods": grain.season_periods},
        history_margin_days(config, scoring),
        scoring.in_window_sql("sales_date"),
        scoring.first_scored_day_sql("max(sales_date)"),
        scoring.first_day_sql("first_scored_day"),
        scoring.scored_days_sql("first_scored_day", "days.sales_date"),
        engine,
        median_function,
    )
    return str(rendered)


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


def batch_fingerprint(sales: duckdb.DuckDBPyRelation, card: ModelCard, scoring: BaselineScoring) -> str:
    """What a built-in version's batch is a function of: the sales it reads (every row of
    :data:`SALES_COLUMNS`, order-independent, :func:`~mrs.duckdb_relations.warehouse_fingerprint`),
    the version's card and configuration, the scored range's settings, the SQL it runs and the
    package's code."""
    _, sales_fingerprint = warehouse_fingerprint(sales, SALES_COLUMNS)
    config = baseline_config(card.model_version)
    scoring = replace(scoring, scored_after=None)  # the range's settings, not how much of it a batch computed
    return stable_id(
        BASELINE_LOG.name,
        repr(card),
        repr(config),
        repr(scoring),
        baseline_inputs_sql(config, scoring),
        sales_fingerprint,
        package_fingerprint(),
    )


def score_baseline(
    con: duckdb.DuckDBPyConnection,
    sales: duckdb.DuckDBPyRelation,
    *,
    card: ModelCard,
    scoring: BaselineScoring,
    log_relation: str | None,
) -> pa.Table:
    """The ``baseline_log`` step: the new baseline rows of the card's version, typed for the log.

    Every row carries the ``batch_fingerprint`` of the batch that wrote it. A build whose batch
    would read exactly what a logged batch read scores nothing: that batch's rows are all in the
    log (the new ones were appended with its fingerprint, the others were there before), and the
    same inputs give the same rows. A batch that appends nothing leaves no fingerprint, so until
    new sales arrive such a build scores again (and appends nothing): after a correction that moves
    no baseline, a new release of the package, or a DuckDB upgrade that changes its row hash.

    When new periods arrived and nothing older changed - the logged batch that scored the latest
    logged period ``D`` read exactly today's sales up to ``D`` - only the periods after ``D`` are
    scored, from the history they reach (:attr:`BaselineScoring.scored_after`): a period's
    statistics come from the periods before it, so the others' rows are those in the log. Any
    other change (a correction, another range or version) scores the whole range.
    """
    config = baseline_config(card.model_version)
    began = time.perf_counter()
    fingerprint = batch_fingerprint(sales, card, scoring)
    if holds_value(con, log_relation, "batch_fingerprint", fingerprint):
        detail = f"not scored: the sales and settings are those of a logged batch (batch_fingerprint {fingerprint[:12]})"
        log_step(BASELINE_LOG.name, rows_in=None, rows_new=0, seconds=time.perf_counter() - began, detail=detail)
        return BASELINE_LOG.schema.empty_table()

    scored_after = unchanged_until(con, sales, card=card, scoring=scoring, log_relation=log_relation)

    def predict(inputs: pa.Table) -> pa.Table:
        rows = predict_batch(inputs, config)
        return rows.append_column("batch_fingerprint", pa.array([fingerprint] * rows.num_rows, pa.string()))

    return score_new_rows(
        baseline_inputs(con, sales, config, replace(scoring, scored_after=scored_after)),
        spec=BASELINE_LOG,
        card=card,
        log_relation=log_relation,
        predict=predict,
        detail=f"periods after {scored_after} (the sales up to it are those of a logged batch)" if scored_after else "",
    )


def unchanged_until(
    con: duckdb.DuckDBPyConnection,
    sales: duckdb.DuckDBPyRelation,
    *,
    card: ModelCard,
    scoring: BaselineScoring,
    log_relation: str | None,
) -> date | None:
    """The latest period ``D`` the card's version has logged, when the batch that logged it read
    exactly today's sales up to ``D`` with today's settings (its ``batch_fingerprint`` is that of
    those sales); else None."""
    if not log_relation:
        return None
    latest = con.execute(
        f"select sales_date, batch_fingerprint from {log_relation} "
        "where model_name = ? and model_version = ? and batch_fingerprint is not null "
        "order by sales_date desc, scored_at desc limit 1",
        [card.model_name, card.model_version],
    ).fetchall()
    if not latest:
        return None
    last_day, logged = latest[0]
    up_to = query_relation(sales, "mrs_sales", f"select * from mrs_sales where sales_date <= date '{last_day.isoformat()}'")
    return last_day if batch_fingerprint(up_to, card, scoring) == logged else None
