"""``mrs train product_insights``: train the learned price forecaster outside the DAG.

1. **Extract** the warehouse's daily price points (``intermediate.int_price_windows``: one point
   per product and day, the mean over retailers, exactly what the DAG's histories hold), opened
   read-only, and add simulated worlds from training seeds (``simulated_seeds``; products only:
   more series of the same kinds, never the seeds ``mrs evaluate insights`` judges on).
2. **Split**: per panel, the hold-out is a time split (the last ``holdout_days`` as-of days with a
   realised next-month price, and the next-week rows after them); rows before it (minus a 28-day
   purge) are split by series into train / validation / calibration
   (:func:`mrs.insights.forecaster.time_roles`).
3. **Fit** every candidate per horizon and keep the best on validation; calibrate its bounds at
   ``bound_level`` on the calibration rows (:func:`mrs.insights.forecaster.fit`).
4. **Evaluate** on the warehouse's hold-out (every row, every fallback): MAPE, the last price's
   MAPE, MASE against the last price, coverage and median width of the bounds at the stated
   level, next week and next month; the candidates' validation and hold-out figures too.
5. **Write** the immutable artefact (``model.txt``: the forecaster as JSON) with its manifest.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mrs import __version__ as MRS_VERSION
from mrs.insights.forecaster import (
    FEATURE_NAMES,
    HORIZONS,
    FittedForecaster,
    ForecasterConfig,
    TrainingRows,
    fit,
    forecast_metrics,
    panel_features,
    time_roles,
)
from mrs.insights.schema import MODEL_NAME
from mrs.lifecycle.training import _table_exists

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

PRICES_TABLE = "intermediate.int_price_windows"
PRODUCTS_TABLE = "staging.stg_price_tracker__products"
FEATURES_TABLE = "ml.product_insight_inputs"


class InsightsTrainingError(RuntimeError):
    """The warehouse cannot give what training needs."""


@dataclass(frozen=True)
class InsightsTrainingConfig:
    """How ``mrs train product_insights`` extracts, splits and fits."""

    forecaster: ForecasterConfig = field(default_factory=ForecasterConfig)
    #: simulated worlds added to the warehouse's series (products only); disjoint from
    #: :data:`mrs.insights.evaluation.TEST_SEEDS`
    simulated_seeds: tuple[int, ...] = (101, 102, 103, 104)
    simulated_products: int = 200
    #: as-of days of the hold-out with a realised next-month price
    holdout_days: int = 14


def simulated_panel(seed: int, n_products: int) -> tuple[pd.DataFrame, np.ndarray]:
    """A simulated world's daily price points (mean over retailers, as int_price_windows) as a
    panel, and each product's log(first price / MSRP)."""
    from mrs.simulate.config import SimulationConfig
    from mrs.simulate.products import build_products

    tables = build_products(SimulationConfig(seed=seed, n_products=n_products))
    prices = tables["prices"].to_pandas()
    panel = prices.groupby(["product_id", "observed_on"], as_index=False)["price"].mean()
    panel = panel.rename(columns={"product_id": "series_id", "observed_on": "date"})
    panel["series_id"] = f"sim{seed}:" + panel["series_id"]
    msrp = tables["products"].to_pandas().set_index("product_id")["msrp"]
    first = prices.sort_values("observed_on").groupby("product_id")["price"].first()
    return panel, np.log(first / msrp.reindex(first.index)).to_numpy(float)


def warehouse_panel(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, np.ndarray, str]:
    """The warehouse's daily price points, log(first price / MSRP) per product, and a fingerprint."""
    from mrs.lifecycle.schemas import sql_fingerprint

    for table in (PRICES_TABLE, PRODUCTS_TABLE):
        if not _table_exists(con, table):
            raise InsightsTrainingError(f"{table} is not in the warehouse: run `dbt build` first")
    sql = f"""select product_id as series_id, as_of_date as date, latest_price as price
              from {PRICES_TABLE} where history_depth > 0 order by series_id, date"""
    panel = con.sql(sql).df()
    if panel.empty:
        raise InsightsTrainingError(f"{PRICES_TABLE} has no price point to train on")
    ratios = con.sql(
        f"""select ln(first(p.latest_price order by p.as_of_date) / any_value(products.msrp))
            from {PRICES_TABLE} as p join {PRODUCTS_TABLE} as products using (product_id)
            where p.history_depth > 0 group by product_id"""
    ).fetchnumpy()
    ratio = np.asarray(list(ratios.values())[0], float)
    return panel, ratio, sql_fingerprint(con, sql, ("series_id", "date", "price"))


def holdout_figures(model: FittedForecaster, rows: pd.DataFrame) -> dict[str, float]:
    """MAPE, MASE vs the last price, coverage and median width per horizon on ``rows`` (every
    fallback included), plus the next-week WAPE (the residual monitor's reference)."""
    tr = TrainingRows.from_frame(rows, np.array(["holdout"] * len(rows)))
    out = model.forecast(tr.features, tr.last_price)
    figures: dict[str, float] = {}
    for name in HORIZONS:
        for key, value in forecast_metrics(
            tr.actual[name], out[name], out[f"{name}_low"], out[f"{name}_high"], tr.last_price, model.config.bound_level
        ).items():
            figures[f"holdout_{name}_{key}"] = value
    actual, point = tr.actual["next_week"], out["next_week"]
    ok = np.isfinite(actual)
    figures["holdout_wape"] = float(np.sum(np.abs(point[ok] - actual[ok])) / np.sum(actual[ok])) if ok.any() else float("nan")
    return figures


def training_rows(panels: list[pd.DataFrame], config: InsightsTrainingConfig) -> pd.DataFrame:
    frames = []
    for panel in panels:
        rows = panel_features(panel, config.forecaster.history_points)
        rows["role"] = time_roles(rows["as_of_date"], rows["series_id"], holdout_days=config.holdout_days)
        frames.append(rows)
    return pd.concat(frames, ignore_index=True)


def train_product_insights(
    con: duckdb.DuckDBPyConnection,
    artifacts_root: Path,
    *,
    config: InsightsTrainingConfig | None = None,
    version: str | None = None,
    retrain_event_ids: tuple[str, ...] = (),
    echo: Callable[[str], None] = print,
):
    """Extract, split, fit, evaluate and write a new immutable version of ``product_insights``."""
    import lightgbm

    from mrs.lifecycle.artifacts import MANIFEST_FILE, Manifest, next_version, read_manifest, write_artifact
    from mrs.lifecycle.drift import long_features_sql, summarise
    from mrs.lifecycle.monitoring import MONITORS
    from mrs.lifecycle.training import TrainingResult

    config = config or InsightsTrainingConfig()
    echo(f"extracting daily price points from {PRICES_TABLE}")
    panel, ratios, fingerprint = warehouse_panel(con)
    panels, all_ratios = [panel], [ratios]
    for seed in config.simulated_seeds:
        echo(f"simulating training world {seed} ({config.simulated_products} products)")
        sim, sim_ratios = simulated_panel(seed, config.simulated_products)
        panels.append(sim)
        all_ratios.append(sim_ratios)
    rows = training_rows(panels, config)
    echo(f"fitting {len(config.forecaster.candidates)} candidates per horizon on {int((rows.role == 'train').sum()):,} rows")
    try:
        model, report = fit(TrainingRows.from_frame(rows, rows["role"].to_numpy()), config.forecaster, np.concatenate(all_ratios))
    except ValueError as exc:
        raise InsightsTrainingError(str(exc)) from exc
    warehouse_rows = rows[rows["series_id"].isin(set(panel["series_id"]))]
    holdout = warehouse_rows[warehouse_rows["role"] == "holdout"]
    if holdout.empty:
        raise InsightsTrainingError(f"{PRICES_TABLE}: the time split left no hold-out rows (the history is too short)")
    metrics: dict[str, Any] = holdout_figures(model, holdout)
    metrics |= {
        f"simulated_{k}": v
        for k, v in holdout_figures(model, rows[(rows["role"] == "holdout") & ~rows.index.isin(warehouse_rows.index)]).items()
    }
    for name, horizon in report["horizons"].items():
        for candidate, figures in horizon["candidates"].items():
            for key in ("validation_mape", "holdout_mape", "holdout_coverage", "holdout_median_width"):
                if key in figures:
                    metrics[f"candidate_{name}_{candidate}_{key}"] = figures[key]
    metrics = {k: (round(float(v), 6) if np.isfinite(v) else None) for k, v in metrics.items()}
    monitor = MONITORS[MODEL_NAME]
    reference = {}
    if _table_exists(con, FEATURES_TABLE):
        split_start = holdout["as_of_date"].min()
        train_sql = f"select * from {FEATURES_TABLE} where as_of_date < date '{pd.Timestamp(split_start).date().isoformat()}'"
        reference = {
            f: s.to_dict()
            for f, s in summarise(
                con, long_features_sql(train_sql, dict(monitor.drift_features or {}), entity=monitor.entity)
            ).items()
        }
    dates = pd.to_datetime(panel["date"]).dt.date
    roles = rows["role"].value_counts().to_dict()
    level = config.forecaster.bound_level
    week_cov = metrics.get("holdout_next_week_coverage")
    manifest = Manifest(
        model_name=MODEL_NAME,
        model_version=version or next_version(artifacts_root, MODEL_NAME),
        trained_on=max(dates),
        description=(
            f"LightGBM price forecaster across series (next week: {model.horizons['next_week'].candidate}, next month: "
            f"{model.horizons['next_month'].candidate}) with split-conformal bounds at {level:.0%} "
            "(widths by a learned difficulty); falls back to the last "
            "known price, then the MSRP."
        ),
        dataset_fingerprint=fingerprint,
        training_rows=int(len(rows)),
        data_start=min(dates),
        data_end=max(dates),
        features=FEATURE_NAMES,
        categorical_levels={},
        parameters={
            "forecaster": asdict(config.forecaster) | {"candidates": list(config.forecaster.candidates)},
            "bound_level": level,
            "chosen": {name: h.candidate for name, h in model.horizons.items()},
            "simulated_seeds": list(config.simulated_seeds),
            "simulated_products": config.simulated_products,
            "holdout_days": config.holdout_days,
            "rows_by_role": {str(k): int(v) for k, v in roles.items()},
        },
        metrics=metrics,
        splits={
            "train": {
                "start": min(dates).isoformat(),
                "end": (pd.Timestamp(holdout["as_of_date"].min()).date()).isoformat(),
                "rows": int(roles.get("train", 0)),
            },
            "validation": {"rows": int(roles.get("validation", 0)), "calibration_rows": int(roles.get("calibration", 0))},
            "holdout": {
                "start": pd.Timestamp(holdout["as_of_date"].min()).date().isoformat(),
                "end": pd.Timestamp(holdout["as_of_date"].max()).date().isoformat(),
                "rows": int(len(holdout)),
            },
        },
        reference=reference,
        confidence_metric=round(float(week_cov if week_cov is not None else level), 6),
        retrain_event_ids=tuple(retrain_event_ids),
        library={"lightgbm": lightgbm.__version__, "mrs": MRS_VERSION, "python": platform.python_version()},
    )
    path = write_artifact(artifacts_root, manifest, model.to_text())
    return TrainingResult(read_manifest(path / MANIFEST_FILE), path)


def summary_text(result) -> str:
    """What ``mrs train product_insights`` prints."""
    m = result.manifest
    x = m.metrics
    lines = [
        f"trained {m.model_name} version {m.model_version} -> {result.path}",
        f"  data        {m.data_start} .. {m.data_end}, {m.training_rows:,} rows with simulated seeds "
        f"{m.parameters['simulated_seeds']} (fingerprint {m.dataset_fingerprint})",
        f"  chosen      next week {m.parameters['chosen']['next_week']}, next month {m.parameters['chosen']['next_month']}"
        f" (lowest validation MAPE); bounds at {m.parameters['bound_level']:.0%}",
    ]
    for name in HORIZONS:

        def f(key: str, name: str = name) -> float:
            value = x.get(f"holdout_{name}_{key}")
            return float("nan") if value is None else value

        lines.append(
            f"  hold-out {name:<10} MAPE {f('mape'):.2%} (last price {f('last_price_mape'):.2%}), "
            f"MASE {f('mase_vs_last_price'):.3f}, "
            f"coverage {f('coverage'):.1%}, median width {f('median_width'):.1%} "
            f"(last-price band {f('last_price_band_width'):.1%})"
        )
    lines.append(
        "next: `dbt build` registers it in model_registry_log; then "
        f"`mrs approve {m.model_name} {m.model_version} --by NAME --reason TEXT` and set "
        f'vars.active_model_versions.{m.model_name}: "{m.model_version}" to activate it'
    )
    return "\n".join(lines)
