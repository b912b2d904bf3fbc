"""``mrs evaluate insights``: the v1 forecaster's recipe judged on data it never saw.

Two judgements, each against the last-price forecast ("next = last price") on every product ×
as-of date with a realised price exactly 7 and 28 days later:

* **simulated**: the recipe (:class:`~mrs.insights.forecaster.ForecasterConfig` defaults) is
  fitted on simulated worlds from ``train_seeds`` and judged on every row of worlds from
  ``test_seeds`` (disjoint; every fallback included);
* **real**: daily adjusted closing prices of five shares (AAPL, GOOG, IBM, MSFT, FB) from the
  ``bokeh-sampledata`` PyPI package (``bokeh_sampledata/_data/stocks.csv.gz``, 2000-03 to
  2013-03, offline). The recipe is fitted on the training worlds plus the shares' rows before
  ``real_cutoff`` (minus 29 days, so no target reaches past it; split by series × year) and judged
  on every row from ``real_cutoff`` on.

The targets the issue states: MAPE below the last price's at both horizons; bounds covering
75-85 % of realised prices; median width at most 1.2 × the width of the empirical band (same
level) of the last price's relative errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from mrs.insights.forecaster import (
    HORIZONS,
    ForecasterConfig,
    TrainingRows,
    _stable_bucket,
    fit,
    forecast_metrics,
    panel_features,
)
from mrs.insights.training import InsightsTrainingConfig, simulated_panel, training_rows

TEST_SEEDS: tuple[int, ...] = (9001, 9002, 9003)
"""Seeds of the worlds the recipe is judged on; never used to train or tune."""

REAL_DATASET = "bokeh-sampledata 2026.1: stocks.csv.gz, daily adjusted close of AAPL, GOOG, IBM, MSFT, FB (2000-03 .. 2013-03)"
COVERAGE_RANGE = (0.75, 0.85)
WIDTH_RATIO_MAX = 1.2


class EvaluationDataError(RuntimeError):
    """The real data set is not installed or not readable."""


@dataclass(frozen=True)
class EvaluationConfig:
    train_seeds: tuple[int, ...] = InsightsTrainingConfig().simulated_seeds
    test_seeds: tuple[int, ...] = TEST_SEEDS
    simulated_products: int = 200
    real: bool = True
    real_cutoff: date = date(2010, 1, 1)
    forecaster: ForecasterConfig = field(default_factory=ForecasterConfig)

    def __post_init__(self) -> None:
        overlap = sorted(set(self.train_seeds) & set(self.test_seeds))
        if overlap:
            raise ValueError(f"seeds {overlap} are both training and test seeds")


def real_panel() -> pd.DataFrame:
    """The shares' daily adjusted closes as a panel (series_id, date, price)."""
    from importlib import resources

    try:
        source = resources.files("bokeh_sampledata") / "_data" / "stocks.csv.gz"
        with resources.as_file(source) as path:
            frame = pd.read_csv(path)
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise EvaluationDataError(
            f"the real data set needs the bokeh-sampledata package (pip install bokeh-sampledata): {exc}"
        ) from exc
    frame = frame.rename(columns={"Ticker": "series_id", "Date": "date", "Adj Close": "price"})
    frame["date"] = pd.to_datetime(frame["date"])
    return frame.loc[:, ["series_id", "date", "price"]].dropna()


def _judge(model, rows: pd.DataFrame, level: float) -> dict[str, dict[str, Any]]:
    tr = TrainingRows.from_frame(rows, np.array(["test"] * len(rows)))
    out = model.forecast(tr.features, tr.last_price)
    result = {}
    for name in HORIZONS:
        m = forecast_metrics(tr.actual[name], out[name], out[f"{name}_low"], out[f"{name}_high"], tr.last_price, level)
        m["beats_last_price"] = bool(m["mape"] < m["last_price_mape"])
        m["coverage_in_range"] = bool(COVERAGE_RANGE[0] <= m["coverage"] <= COVERAGE_RANGE[1])
        m["width_ratio"] = m["median_width"] / m["last_price_band_width"] if m["last_price_band_width"] > 0 else float("nan")
        m["width_ok"] = bool(m["width_ratio"] <= WIDTH_RATIO_MAX)
        result[name] = m
    return result


def evaluate(config: EvaluationConfig | None = None) -> dict[str, Any]:
    """Fit the recipe and judge it; returns the figures per data set and horizon."""
    config = config or EvaluationConfig()
    training = InsightsTrainingConfig(
        forecaster=config.forecaster, simulated_seeds=config.train_seeds, simulated_products=config.simulated_products
    )
    worlds = [simulated_panel(seed, config.simulated_products) for seed in config.train_seeds]
    ratios = np.concatenate([world[1] for world in worlds])
    sim_rows = training_rows([world[0] for world in worlds], training)
    level = config.forecaster.bound_level
    model, _ = fit(TrainingRows.from_frame(sim_rows, sim_rows["role"].to_numpy()), config.forecaster, ratios)
    test_rows = pd.concat(
        [
            panel_features(simulated_panel(seed, config.simulated_products)[0], config.forecaster.history_points)
            for seed in config.test_seeds
        ],
        ignore_index=True,
    )
    results: dict[str, Any] = {
        "bound_level": level,
        "simulated": {
            "train_seeds": list(config.train_seeds),
            "test_seeds": list(config.test_seeds),
            "chosen": {n: h.candidate for n, h in model.horizons.items()},
            "horizons": _judge(model, test_rows, level),
        },
    }
    if config.real:
        real = panel_features(real_panel(), config.forecaster.history_points)
        cutoff = np.datetime64(config.real_cutoff, "D")
        days = real["as_of_date"].to_numpy("datetime64[D]")
        early = real[days < cutoff - np.timedelta64(max(HORIZONS.values()) + 1, "D")].copy()
        years = pd.to_datetime(early["as_of_date"]).dt.year.astype(str)
        bucket = np.array([_stable_bucket(k) for k in (early["series_id"] + ":" + years)])
        early["role"] = np.where(bucket < 6, "train", np.where(bucket < 8, "validation", "calibration"))
        mixed = pd.concat([sim_rows, early], ignore_index=True)
        real_model, _ = fit(TrainingRows.from_frame(mixed, mixed["role"].to_numpy()), config.forecaster, ratios)
        results["real"] = {
            "dataset": REAL_DATASET,
            "cutoff": config.real_cutoff.isoformat(),
            "chosen": {n: h.candidate for n, h in real_model.horizons.items()},
            "horizons": _judge(real_model, real[days >= cutoff], level),
            # the simulated-only model on the shares, for comparison
            "simulated_only_model": _judge(model, real[days >= cutoff], level),
        }
    return results


def render_text(results: dict[str, Any]) -> str:
    level = results["bound_level"]
    lines = [
        f"product_insights v1 recipe, bounds at {level:.0%}; targets: MAPE < last price, coverage "
        f"{COVERAGE_RANGE[0]:.0%}-{COVERAGE_RANGE[1]:.0%}, median width <= {WIDTH_RATIO_MAX} "
        f"x the last price's {level:.0%} error band",
        f"{'data':<34} {'horizon':<11} {'rows':>6} {'MAPE':>7} {'last':>7} {'MASE':>6} "
        f"{'cover':>6} {'width':>6} {'band':>6} {'ratio':>6}  verdict",
    ]

    def block(label: str, horizons: dict[str, dict[str, Any]]) -> None:
        for name, m in horizons.items():
            verdict = [
                ("ok" if m["beats_last_price"] else "MISS mape"),
                ("ok" if m["coverage_in_range"] else "MISS coverage"),
                ("ok" if m["width_ok"] else "MISS width"),
            ]
            lines.append(
                f"{label:<34} {name:<11} {int(m['rows']):>6} {m['mape']:>7.2%} {m['last_price_mape']:>7.2%} "
                f"{m['mase_vs_last_price']:>6.3f} {m['coverage']:>6.1%} {m['median_width']:>6.1%} "
                f"{m['last_price_band_width']:>6.1%} {m['width_ratio']:>6.2f}  {', '.join(verdict)}"
            )

    sim = results["simulated"]
    block(f"simulated seeds {','.join(map(str, sim['test_seeds']))}", sim["horizons"])
    if "real" in results:
        real = results["real"]
        block(f"real shares from {real['cutoff']}", real["horizons"])
        block("  (simulated-only model)", real["simulated_only_model"])
        lines.append(f"real data: {real['dataset']}")
    lines.append(f"simulated training seeds {','.join(map(str, sim['train_seeds']))}; chosen {sim['chosen']}")
    lines.append("sellout risk: unscored (the simulator emits no stock-outs, so there is no ground truth)")
    return "\n".join(lines)
