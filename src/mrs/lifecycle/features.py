"""The learned baseline's features, built in SQL from ``int_sales_features``; the same SQL serves
training (``mrs train baseline``), scoring (``baseline_log``) and drift monitoring.

The baseline must not learn an anomaly from itself: a day's sales-history features are read from
the ``int_sales_features`` row of the same store × SKU **seven days earlier** (its rolling means,
medians and trend, and its own units), so every history feature of day d uses sales up to
d - 7 only, and an anomaly window of up to a week never enters the features of its own days. The
calendar, campaign and context features are those of day d itself: they are known in advance
(planned campaigns, holidays) and are what the model should explain sales with.

The same SQL serves both sales grains (``vars.sales_grain``): seven days earlier is one period at
weekly grain, and the lags are the units on the same weekday 1, 2 and 3 weeks before (at weekly
grain the last three weeks), so the rolling windows, ``history_days_28d_lag7`` and
:data:`MIN_LAGGED_HISTORY_DAYS` count periods (days or weeks) of ``int_sales_features``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mrs.duckdb_relations import query_relation

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

FEATURE_HORIZON_DAYS = 7
"""History features of day d end on day d - 7 (see the module docstring)."""

TARGET = "units_sold"
KEY_COLUMNS: tuple[str, ...] = ("store_id", "sku_id", "sales_date")

NUMERIC_FEATURES: tuple[str, ...] = (
    "day_of_week",
    "unit_price",
    "lag_7d",
    "lag_14d",
    "lag_21d",
    "same_weekday_mean_3w",
    "rolling_mean_7d_lag7",
    "rolling_median_7d_lag7",
    "rolling_mean_28d_lag7",
    "rolling_median_28d_lag7",
    "trend_coef_28d_lag7",
    "history_days_28d_lag7",
    "active_campaigns",
    "campaign_discount_pct",
    "is_holiday",
    "has_weather_event",
    "has_local_event",
    "has_supply_disruption",
    "max_event_severity",
)
CATEGORICAL_FEATURES: tuple[str, ...] = ("retailer", "region", "store_type", "category")
FEATURES: tuple[str, ...] = NUMERIC_FEATURES + CATEGORICAL_FEATURES

DRIFT_FEATURES: tuple[str, ...] = (
    "lag_7d",
    "same_weekday_mean_3w",
    "rolling_mean_7d_lag7",
    "rolling_mean_28d_lag7",
    "rolling_median_28d_lag7",
)
"""The features drift monitoring compares: the sales-history ones. Campaign and context flags are
scheduled, exogenous inputs whose mix varies by design, so they are not drift signals."""

MIN_LAGGED_HISTORY_DAYS = 14
"""A period is a training or scoring row only if the row seven days earlier has at least this many
periods in its 28-period look-back (so the first 3 weeks of a daily series, the first 15 weeks of
a weekly one, are never rows)."""


def first_scorable_offset_days(period_days: int) -> int:
    """Days after a series' first period before its first row with learned-baseline features."""
    return FEATURE_HORIZON_DAYS + MIN_LAGGED_HISTORY_DAYS * period_days


#: the columns of the row seven days earlier that the features read (``p`` in the SQL below)
_LAGGED_COLUMNS: tuple[str, ...] = (
    "units_sold",
    "rolling_mean_7d",
    "rolling_median_7d",
    "rolling_mean_28d",
    "rolling_median_28d",
    "trend_coef_28d",
    "history_days_28d",
)


def days_earlier_sql(column: str, days: int) -> str:
    """``column`` of the same store × SKU's row exactly ``days`` days earlier, or null.

    A window lag, not a self-join: three hash joins of the whole look-back on (store, SKU, date)
    held about 3 GB at 10M store × SKU × days and failed monitoring under a 2 GB ``memory_limit``;
    the lags sort once and stream (about 1.3 GB, and faster). The row ``days`` rows back (daily
    grain) or ``days / 7`` rows back (weekly grain) is taken only when its date is exactly that day,
    so a value is never another day's: on the complete grid of ``int_sales_features`` (every period
    of every pair) it is the self-join's row, and where a relation has gaps the lag is null rather
    than wrong."""
    series = "partition by store_id, sku_id order by sales_date"
    offsets = [days, days // 7] if days % 7 == 0 else [days]  # a period is 1 or 7 days
    cases = " ".join(
        f"when lag(sales_date, {k}) over ({series}) = sales_date - {days} then lag({column}, {k}) over ({series})"
        for k in offsets
    )
    return f"case {cases} end"


def baseline_features_sql(features_relation: str) -> str:
    """One row per store × SKU × day of ``features_relation`` (``int_sales_features``) with enough
    history: the keys, the target ``units_sold`` and :data:`FEATURES`. The row seven days earlier
    (``p``) must exist and have :data:`MIN_LAGGED_HISTORY_DAYS`; those 14 and 21 days earlier
    (``p2``, ``p3``) may be missing."""
    lagged = ",\n            ".join(f"{days_earlier_sql(c, FEATURE_HORIZON_DAYS)} as p_{c}" for c in _LAGGED_COLUMNS)
    return f"""
    select
        f.store_id,
        f.sku_id,
        cast(f.sales_date as date) as sales_date,
        cast(f.units_sold as double) as units_sold,
        cast(f.day_of_week as integer) as day_of_week,
        cast(f.unit_price as double) as unit_price,
        cast(f.p_units_sold as double) as lag_7d,
        cast(f.p2_units_sold as double) as lag_14d,
        cast(f.p3_units_sold as double) as lag_21d,
        (coalesce(f.p_units_sold, 0) + coalesce(f.p2_units_sold, 0) + coalesce(f.p3_units_sold, 0))
            / nullif(
                (case when f.p_units_sold is null then 0 else 1 end)
                + (case when f.p2_units_sold is null then 0 else 1 end)
                + (case when f.p3_units_sold is null then 0 else 1 end),
                0
            )
            as same_weekday_mean_3w,
        cast(f.p_rolling_mean_7d as double) as rolling_mean_7d_lag7,
        cast(f.p_rolling_median_7d as double) as rolling_median_7d_lag7,
        cast(f.p_rolling_mean_28d as double) as rolling_mean_28d_lag7,
        cast(f.p_rolling_median_28d as double) as rolling_median_28d_lag7,
        cast(f.p_trend_coef_28d as double) as trend_coef_28d_lag7,
        cast(f.p_history_days_28d as integer) as history_days_28d_lag7,
        cast(f.active_campaigns as integer) as active_campaigns,
        cast(f.campaign_discount_pct as double) as campaign_discount_pct,
        cast(f.is_holiday as integer) as is_holiday,
        cast(f.has_weather_event as integer) as has_weather_event,
        cast(f.has_local_event as integer) as has_local_event,
        cast(f.has_supply_disruption as integer) as has_supply_disruption,
        cast(f.max_event_severity as double) as max_event_severity,
        f.retailer,
        f.region,
        f.store_type,
        f.category
    from (
        select
            *,
            {lagged},
            -- the same weekday 2 and 3 weeks before, in days, so that the lags mean the same at either grain
            {days_earlier_sql("units_sold", 2 * FEATURE_HORIZON_DAYS)} as p2_units_sold,
            {days_earlier_sql("units_sold", 3 * FEATURE_HORIZON_DAYS)} as p3_units_sold
        from {features_relation}
    ) as f
    where f.p_history_days_28d >= {MIN_LAGGED_HISTORY_DAYS}
    """


def baseline_features(con: duckdb.DuckDBPyConnection, features: duckdb.DuckDBPyRelation | str) -> duckdb.DuckDBPyRelation:
    """:func:`baseline_features_sql` over a relation (what ``dbt.ref()`` returns) or a table name."""
    if isinstance(features, str):
        return con.sql(baseline_features_sql(features))
    return query_relation(features, "mrs_sales_features", baseline_features_sql("mrs_sales_features"))
