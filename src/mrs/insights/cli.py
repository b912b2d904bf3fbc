"""`mrs insights PRODUCT_ID`: one product's forecast, bounds, risk, ROI and hype, and their source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from mrs.cli_options import emit, json_option, warehouse_option
from mrs.insights.evaluation import EvaluationConfig, EvaluationDataError, evaluate
from mrs.insights.evaluation import render_text as render_evaluation
from mrs.insights.forecaster import ForecasterConfig
from mrs.insights.runner import InsightsInputError, UnknownProductError
from mrs.insights.service import ProductInsights, WarehouseUnavailable, get_product_insights
from mrs.versions import UnknownModelVersion


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.2f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1%}"


def render_text(result: ProductInsights) -> str:
    """The human-readable report of one product's insight."""
    i: dict[str, Any] = result.insight
    name = f" {result.product_name}" if result.product_name else ""
    fallback = f", MSRP fallback: {i['msrp_fallback_reason']}" if i["msrp_fallback_reason"] else ""
    observed = "n/a" if i["trend_ratio_observed"] is None else f"{i['trend_ratio_observed']:.3f}"
    if result.source == "cached":
        source = f"cached ({result.source_detail}; scored {result.provenance['scored_at']}, run {result.provenance['run_id']})"
    else:
        source = result.source_detail
    lines = [
        f"{result.product_id}{name} ({result.category or 'unknown category'})",
        f"  source            {source}",
        f"  model             {result.model_name} v{result.model_version}",
        f"  as of             {i['as_of_date']}  (history {i['history_depth']} points, "
        f"{i['alert_velocity']} alerts in 7 days, popularity {i['popularity_score']})",
        f"  price             current {_money(i['current_price'])}, MSRP {_money(i['msrp'])}, "
        f"discount vs MSRP {_pct(i['discount_vs_msrp'])}",
        f"  baseline          {_money(i['baseline_price'])} ({i['baseline_source']}{fallback})",
        f"  price from        {i.get('price_source') or 'n/a'}"
        + ("" if i.get("price_age_days") is None else f" ({i['price_age_days']} days old)")
        + f", forecast by {i.get('forecast_method') or 'n/a'}",
        "  bounds            "
        + (
            "no stated level (version 0's heuristic spread, not calibrated)"
            if i.get("bound_level") is None
            else f"{i['bound_level']:.0%} prediction interval (split-conformal)"
        ),
        f"  trend (7 days)    observed {observed}, used {i['trend_ratio_used']:.3f}",
        f"  forecast week     {_money(i['price_forecast_next_week'])}  "
        f"[{_money(i['price_forecast_next_week_low'])} .. {_money(i['price_forecast_next_week_high'])}]",
        f"  forecast month    {_money(i['price_forecast_next_month'])}  "
        f"[{_money(i['price_forecast_next_month_low'])} .. {_money(i['price_forecast_next_month_high'])}]",
        f"  confidence        {i['forecast_confidence']:.2f}",
        f"  sellout risk      {i['sellout_risk']:.2f}",
        f"  ROI next week     {_pct(i['roi_next_week_vs_current'])} vs current, {_pct(i['roi_next_week_vs_msrp'])} vs MSRP",
        f"  ROI next month    {_pct(i['roi_next_month_vs_current'])} vs current, {_pct(i['roi_next_month_vs_msrp'])} vs MSRP",
        f"  hype              {i['hype_score']:.1f} / 100",
    ]
    return "\n".join(lines)


@click.command("insights")
@click.argument("product_id")
@json_option
@warehouse_option("DuckDB warehouse file (opened read-only).")
@click.option(
    "--model-version", "version", default=None, help="Model version for an on-the-spot computation [default: the active one]."
)
def insights(product_id: str, warehouse: Path, version: str | None) -> None:
    """Price forecast with bounds, sellout risk, ROI and hype for PRODUCT_ID.

    Reads the cached insight of marts.product_insights (read-only); when it is missing or stale,
    computes it on the spot with the active runner, and says which it did.
    """
    try:
        result = get_product_insights(product_id, warehouse=warehouse, version=version)
    except (UnknownProductError, WarehouseUnavailable, UnknownModelVersion, InsightsInputError) as exc:
        raise click.ClickException(str(exc)) from None
    emit(result.to_dict(), lambda: render_text(result))


def _seeds(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers, got {text!r}") from None


@click.command("insights")
@click.option(
    "--train-seeds",
    default=",".join(map(str, EvaluationConfig().train_seeds)),
    show_default=True,
    help="Simulated worlds the recipe is fitted on.",
)
@click.option(
    "--test-seeds",
    default=",".join(map(str, EvaluationConfig().test_seeds)),
    show_default=True,
    help="Simulated worlds it is judged on (never used to fit or tune).",
)
@click.option(
    "--products",
    type=click.IntRange(min=8),
    default=EvaluationConfig().simulated_products,
    show_default=True,
    help="Products per simulated world.",
)
@click.option("--real/--no-real", default=True, show_default=True, help="Also judge on the real share prices (bokeh-sampledata).")
@click.option("--bound-level", type=click.FloatRange(0.5, 0.99), default=ForecasterConfig().bound_level, show_default=True)
@json_option
def evaluate_insights(train_seeds: str, test_seeds: str, products: int, real: bool, bound_level: float) -> None:
    """Fit the product_insights v1 recipe and print its figures on unseen simulated worlds and real prices:
    MAPE vs the last price, MASE, coverage and median width of the bounds, next week and next month."""
    try:
        config = EvaluationConfig(
            train_seeds=_seeds(train_seeds),
            test_seeds=_seeds(test_seeds),
            simulated_products=products,
            real=real,
            forecaster=ForecasterConfig(bound_level=bound_level),
        )
        results = evaluate(config)
    except (ValueError, EvaluationDataError) as exc:
        raise click.ClickException(str(exc)) from None
    emit(results, lambda: render_evaluation(results))
