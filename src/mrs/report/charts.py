"""The report's charts: Vega-Lite specs built with Altair, rendered to inline SVG by vl-convert.

Each builder is a pure function from frames to an :class:`altair.Chart` (or layer); :func:`to_svg`
renders one to an SVG string, so the HTML needs no JavaScript and no network.
"""

from __future__ import annotations

from datetime import timedelta

import altair as alt
import pandas as pd

WIDTH = 640
HEIGHT = 220
ACTUAL_COLOR = "#1f4e79"
BASELINE_COLOR = "#9a9a9a"
WINDOW_COLOR = "#f28e2b"
FORECAST_COLOR = "#59a14f"


def _layered(*charts: alt.Chart) -> alt.LayerChart:
    """``alt.layer`` of charts without facet encodings, which is always a LayerChart (Altair types it as
    possibly a FacetChart: it hoists shared facet encodings into one)."""
    layered = alt.layer(*charts)
    if not isinstance(layered, alt.LayerChart):
        raise TypeError(f"layering these charts made a {type(layered).__name__}, not a LayerChart")
    return layered


def _iso_days(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.strftime("%Y-%m-%d")


def _iso_times(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def actual_vs_baseline(daily: pd.DataFrame, window_start, window_end, title: str) -> alt.LayerChart:
    """Actual and baseline units per day of one store × SKU, the anomaly's days shaded."""
    frame = pd.DataFrame(
        {
            "day": _iso_days(daily["sales_date"]),
            "actual": pd.to_numeric(daily["actual_units"], errors="coerce"),
            "baseline": pd.to_numeric(daily["expected_units"], errors="coerce"),
        }
    ).melt("day", var_name="series", value_name="units")
    window = pd.DataFrame(
        {
            "start": [pd.Timestamp(window_start).strftime("%Y-%m-%d")],
            "end": [(pd.Timestamp(window_end) + timedelta(days=1)).strftime("%Y-%m-%d")],
            "label": ["anomaly window"],
        }
    )
    shade = (
        alt.Chart(window)
        .mark_rect(opacity=0.18, color=WINDOW_COLOR)
        .encode(x=alt.X("start:T", title=None), x2="end:T", tooltip=["label:N"])
    )
    lines = (
        alt.Chart(frame)
        .mark_line(point=alt.OverlayMarkDef(size=14))
        .encode(
            x=alt.X("day:T", title="day"),
            y=alt.Y("units:Q", title="units"),
            color=alt.Color(
                "series:N",
                scale=alt.Scale(domain=["actual", "baseline"], range=[ACTUAL_COLOR, BASELINE_COLOR]),
                legend=alt.Legend(title=None, orient="top-left"),
            ),
            strokeDash=alt.StrokeDash(
                "series:N", scale=alt.Scale(domain=["actual", "baseline"], range=[[1, 0], [5, 3]]), legend=None
            ),
        )
    )
    return _layered(shade, lines).properties(width=WIDTH, height=HEIGHT, title=title)


def price_with_forecast(history: pd.DataFrame, title: str) -> alt.LayerChart:
    """A product's observed price per as-of date, and each day's next-week forecast drawn 7 days
    later with its low-high band, so the forecast can be read against the price that followed."""
    observed = pd.DataFrame(
        {"day": _iso_days(history["as_of_date"]), "price": pd.to_numeric(history["current_price"], errors="coerce")}
    ).dropna()
    target = pd.to_datetime(history["as_of_date"]) + timedelta(days=7)
    forecast = pd.DataFrame(
        {
            "day": target.dt.strftime("%Y-%m-%d"),
            "forecast": pd.to_numeric(history["price_forecast_next_week"], errors="coerce"),
            "low": pd.to_numeric(history["price_forecast_next_week_low"], errors="coerce"),
            "high": pd.to_numeric(history["price_forecast_next_week_high"], errors="coerce"),
        }
    ).dropna()
    x = alt.X("day:T", title="day")
    band = (
        alt.Chart(forecast)
        .mark_area(opacity=0.2, color=FORECAST_COLOR)
        .encode(x=x, y=alt.Y("low:Q", title="price", scale=alt.Scale(zero=False)), y2="high:Q")
    )
    forecast_line = alt.Chart(forecast).mark_line(color=FORECAST_COLOR, strokeDash=[5, 3]).encode(x=x, y="forecast:Q")
    price_line = (
        alt.Chart(observed)
        .mark_line(color=ACTUAL_COLOR, point=alt.OverlayMarkDef(size=12))
        .encode(x=x, y=alt.Y("price:Q", title="price", scale=alt.Scale(zero=False)))
    )
    return _layered(band, forecast_line, price_line).properties(width=WIDTH, height=HEIGHT, title=title)


def drift_over_builds(monitoring: pd.DataFrame) -> alt.FacetChart:
    """Each model's drift signals per build (the monitoring log's evaluations), with thresholds;
    breaches are filled red."""
    frame = pd.DataFrame(
        {
            "model": monitoring["model_name"].astype(str) + " v" + monitoring["model_version"].astype(str),
            "signal": monitoring["signal"].astype(str) + ": " + monitoring["subject"].astype(str),
            "evaluated": _iso_times(monitoring["scored_at"]),
            "value": pd.to_numeric(monitoring["value"], errors="coerce"),
            "threshold": pd.to_numeric(monitoring["threshold"], errors="coerce"),
            "breach": monitoring["is_breach"].astype(bool),
        }
    ).dropna(subset=["value"])
    base = alt.Chart().encode(x=alt.X("evaluated:T", title="build (evaluated at)"))  # data: the facet's, per model
    points = base.mark_line(point=True).encode(
        y=alt.Y("value:Q", title="signal value"),
        color=alt.Color("signal:N", legend=alt.Legend(orient="bottom", columns=2, title=None)),
        tooltip=["model:N", "signal:N", "evaluated:T", "value:Q", "threshold:Q", "breach:N"],
    )
    breaches = base.transform_filter("datum.breach").mark_point(color="#d62728", filled=True, size=70).encode(y="value:Q")
    return (
        alt.layer(points, breaches)
        .properties(width=WIDTH, height=160)
        .facet(row=alt.Row("model:N", title=None), data=frame)
        .resolve_scale(y="independent")
    )


def activation_timeline(activations: pd.DataFrame) -> alt.Chart:
    """Which version of each model every build ran with: one mark per build and model."""
    frame = pd.DataFrame(
        {
            "model": activations["model_name"].astype(str),
            "version": "v" + activations["model_version"].astype(str),
            "build": _iso_times(activations["activated_at"]),
            "run_id": activations["run_id"].astype(str),
        }
    )
    return (
        alt.Chart(frame)
        .mark_tick(thickness=3, size=22)
        .encode(
            x=alt.X("build:T", title="build (activated at)"),
            y=alt.Y("model:N", title=None),
            color=alt.Color("version:N", legend=alt.Legend(title="version", orient="right")),
            tooltip=["model:N", "version:N", "build:T", "run_id:N"],
        )
        .properties(width=WIDTH, height=32 * max(1, frame["model"].nunique()))
    )


def to_svg(chart: alt.TopLevelMixin) -> str:
    """The chart as an SVG document (rendered offline by vl-convert; no JavaScript in the page)."""
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_dict(), vl_version=_vl_version())


def _vl_version() -> str:
    """Altair's Vega-Lite version as vl-convert names it (``v6.1.0`` → ``6.1``)."""
    major, minor, *_ = alt.SCHEMA_VERSION.lstrip("v").split(".")
    return f"{major}.{minor}"
