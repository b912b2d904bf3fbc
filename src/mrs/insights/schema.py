"""The declared shapes of the product-insights runner's input and of its log.

``product_insights_log`` holds one row per product × as-of date × model version × input
fingerprint. Its own columns are declared here once; :attr:`mrs.logs.LogSpec.schema` appends the
inference metadata. ``models/ml/insights/_insights__models.yml`` documents the same columns.
"""

from __future__ import annotations

import pyarrow as pa

from mrs.logs import LogSpec

MODEL_NAME = "product_insights"
"""The model name of the runners that score into the log (the key in ``active_model_versions``)."""

FEATURES_TABLE = "product_insight_inputs"
"""The dbt model the runners read (int_product_insight_features, rounded); named in input errors."""

BASELINE_SOURCES: tuple[str, ...] = ("recent_price", "latest_price", "msrp")
"""``baseline_source``: the mean price of the last 7 days (version 0), the latest known price
(version 1), or the MSRP fallback."""

PRICE_SOURCES: tuple[str, ...] = ("recent_prices", "last_known_price", "msrp")
"""``price_source``: where the forecast's price came from, the fallbacks in the order taken -
the recent price history, the last known price (however old), the MSRP (no price at all)."""

MSRP_FALLBACK_REASONS: tuple[str, ...] = ("no_price_history", "sparse_history")
"""``msrp_fallback_reason`` when the baseline is the MSRP: no price point at all, or (version 0
only) fewer than the configured sparse-history threshold."""

LEARNED_RUNNER_INPUTS: tuple[str, ...] = ("price_history", "price_history_dates")
"""Columns of ``product_insight_inputs`` that only a learned runner reads. The heuristic's input
fingerprint leaves them out, so adding them (with version 1) did not change the fingerprint of a
single row version 0 had scored: an upgraded warehouse re-scores nothing. The
``product_insights`` mart compares a row's fingerprint with both definitions."""

#: The feature columns the heuristic reads (``product_insight_inputs`` has more; they are
#: fingerprinted but not used). ``required`` ones must not be null.
FEATURE_FIELDS: tuple[pa.Field, ...] = (
    pa.field("product_id", pa.string(), nullable=False),
    pa.field("as_of_date", pa.date32(), nullable=False),
    pa.field("popularity_score", pa.int64(), nullable=False),
    pa.field("msrp", pa.float64(), nullable=False),
    pa.field("latest_price", pa.float64()),
    pa.field("history_depth", pa.int64(), nullable=False),
    pa.field("mean_28_points", pa.float64()),
    pa.field("stddev_28_points", pa.float64()),
    pa.field("mean_last_7d", pa.float64()),
    pa.field("trend_ratio", pa.float64()),
    pa.field("alerts_last_7d", pa.int64(), nullable=False),
)
FEATURE_SCHEMA = pa.schema(FEATURE_FIELDS)

PRODUCT_INSIGHTS_LOG = LogSpec(
    name="product_insights_log",
    key_columns=("product_id", "as_of_date"),
    columns=(
        pa.field("product_id", pa.string(), nullable=False),
        pa.field("as_of_date", pa.date32(), nullable=False),
        # inputs as used
        pa.field("msrp", pa.float64(), nullable=False),
        pa.field("current_price", pa.float64()),
        pa.field("history_depth", pa.int32(), nullable=False),
        pa.field("popularity_score", pa.int32(), nullable=False),
        pa.field("alert_velocity", pa.int32(), nullable=False),
        # baseline and trend
        pa.field("baseline_price", pa.float64(), nullable=False),
        pa.field("baseline_source", pa.string(), nullable=False),
        pa.field("msrp_fallback_reason", pa.string()),
        pa.field("trend_ratio_observed", pa.float64()),
        pa.field("trend_ratio_used", pa.float64(), nullable=False),
        # price forecasts with bounds
        pa.field("price_forecast_next_week", pa.float64(), nullable=False),
        pa.field("price_forecast_next_week_low", pa.float64(), nullable=False),
        pa.field("price_forecast_next_week_high", pa.float64(), nullable=False),
        pa.field("price_forecast_next_month", pa.float64(), nullable=False),
        pa.field("price_forecast_next_month_low", pa.float64(), nullable=False),
        pa.field("price_forecast_next_month_high", pa.float64(), nullable=False),
        pa.field("forecast_confidence", pa.float64(), nullable=False),
        # signals
        pa.field("sellout_risk", pa.float64(), nullable=False),
        pa.field("discount_vs_msrp", pa.float64()),
        pa.field("roi_next_week_vs_current", pa.float64()),
        pa.field("roi_next_month_vs_current", pa.float64()),
        pa.field("roi_next_week_vs_msrp", pa.float64(), nullable=False),
        pa.field("roi_next_month_vs_msrp", pa.float64(), nullable=False),
        pa.field("hype_score", pa.float64(), nullable=False),
        # added with version 1, for every version (old warehouses get them by ALTER TABLE,
        # mrs.logs.add_missing_log_columns; null on the rows scored before)
        pa.field("price_source", pa.string()),
        pa.field("price_age_days", pa.int32()),
        pa.field("bound_level", pa.float64()),
        pa.field("forecast_method", pa.string()),
    ),
)
"""The log's declared columns (business key ``product_id`` + ``as_of_date``)."""

INSIGHT_SCHEMA = pa.schema(PRODUCT_INSIGHTS_LOG.columns)
"""What ``predict_batch`` returns: the log's own columns, one row per feature row, in order."""

CONFIDENCE_COLUMN = "forecast_confidence"
"""The output column that becomes each row's ``model_confidence_metric``."""
