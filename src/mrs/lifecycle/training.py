"""Training outside the DAG: ``mrs train baseline``.

1. **Extract** the training data from the warehouse, opened read-only: the learned baseline's
   features (:mod:`mrs.lifecycle.features`) for every store × SKU × day with enough history, minus
   the known anomalies - the store × SKU × day cells inside the windows of ``detection_log`` (the
   MRDL, the authoritative record of anomalies), so the baseline learns normal demand.
2. **Split by time**: the last ``holdout_days`` days are the hold-out, the ``validation_days``
   before them the validation set (early stopping), everything earlier the training set.
3. **Train** a LightGBM regressor with the tweedie objective (as the M5 winners did for
   intermittent retail demand), deterministic (fixed seed, one thread, row-wise histograms).
4. **Evaluate** on the hold-out: WAPE, and MASE against the weekly seasonal naive forecast
   (``units 7 days earlier``), scaled by the naive forecast's in-sample error on the training set
   (Hyndman's MASE, pooled over all series); plus the plain ratio of MAEs on the hold-out.
5. **Write** an immutable artefact with its manifest (version, ``trained_on`` = the last day of the
   extract, dataset fingerprint, parameters, metrics, split boundaries, reference distributions of
   the numeric features on the training set for drift monitoring).
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

import numpy as np
import pandas as pd

from mrs import __version__ as MRS_VERSION
from mrs.lifecycle.artifacts import MANIFEST_FILE, Manifest, next_version, read_manifest, write_artifact
from mrs.lifecycle.drift import long_features_sql, summarise
from mrs.lifecycle.schemas import sql_fingerprint
from mrs.lifecycle.features import (
    CATEGORICAL_FEATURES,
    FEATURE_HORIZON_DAYS,
    FEATURES,
    KEY_COLUMNS,
    NUMERIC_FEATURES,
    TARGET,
    baseline_features_sql,
)
from mrs.logs import quote

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

FEATURES_TABLE = "intermediate.int_sales_features"
DETECTIONS_TABLE = "ml.detection_log"
MODEL_NAME = "baseline"


class TrainingError(RuntimeError):
    """The warehouse cannot give what training needs."""


def default_lightgbm_params() -> dict[str, Any]:
    return {
        "objective": "tweedie",
        # variance power between Poisson (1) and gamma (2): counts with extra dispersion
        "tweedie_variance_power": 1.2,
        "learning_rate": 0.03,
        "num_leaves": 31,
        "min_data_in_leaf": 40,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "seed": 42,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 1,
        "verbosity": -1,
    }


@dataclass(frozen=True)
class TrainingConfig:
    """How ``mrs train baseline`` splits, trains and evaluates."""

    #: the last days of the extract, never seen in training: the honest estimate of the error
    holdout_days: int = 14
    #: the days before the hold-out, used for early stopping
    validation_days: int = 14
    #: seasonal period of the naive forecast MASE compares against (weekly)
    seasonal_period: int = FEATURE_HORIZON_DAYS
    num_boost_round: int = 2000
    early_stopping_rounds: int = 100
    #: leave out the cells of detection_log's anomaly windows (the MRDL) from every split
    exclude_known_anomalies: bool = True
    params: dict[str, Any] = field(default_factory=default_lightgbm_params)

    def __post_init__(self) -> None:
        if self.holdout_days < 1 or self.validation_days < 1:
            raise TrainingError("holdout_days and validation_days must be >= 1")
        if self.params.get("objective") != "tweedie":
            raise TrainingError("the learned baseline uses the tweedie objective")


@dataclass(frozen=True)
class Splits:
    train_end: date
    validation_start: date
    validation_end: date
    holdout_start: date
    holdout_end: date

    @classmethod
    def ending(cls, last_day: date, config: TrainingConfig) -> "Splits":
        holdout_start = last_day - timedelta(days=config.holdout_days - 1)
        validation_start = holdout_start - timedelta(days=config.validation_days)
        return cls(
            train_end=validation_start - timedelta(days=1),
            validation_start=validation_start,
            validation_end=holdout_start - timedelta(days=1),
            holdout_start=holdout_start,
            holdout_end=last_day,
        )

    def label(self, dates: pd.Series) -> pd.Series:
        d = pd.to_datetime(dates).dt.date
        return pd.Series(
            np.where(d >= self.holdout_start, "holdout", np.where(d >= self.validation_start, "validation", "train")),
            index=dates.index,
        )


@dataclass(frozen=True)
class TrainingResult:
    manifest: Manifest
    path: Path


# ---- extract -----------------------------------------------------------------------------------


def _table_exists(con: "duckdb.DuckDBPyConnection", qualified: str) -> bool:
    schema, name = qualified.split(".")
    return bool(
        con.sql(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            params=[schema, name],
        ).fetchall()[0][0]
    )


def training_extract_sql(con: "duckdb.DuckDBPyConnection", config: TrainingConfig) -> tuple[str, int]:
    """SQL of the training extract (sorted by key) and how many cells it leaves out as known anomalies."""
    if not _table_exists(con, FEATURES_TABLE):
        raise TrainingError(f"{FEATURES_TABLE} is not in the warehouse: run `dbt build` first")
    features = baseline_features_sql(FEATURES_TABLE)
    if not (config.exclude_known_anomalies and _table_exists(con, DETECTIONS_TABLE)):
        return f"select * from ({features}) order by {', '.join(KEY_COLUMNS)}", 0
    anomalies = f"""
        select distinct d.store_id, d.sku_id, cast(day.sales_date as date) as sales_date
        from {DETECTIONS_TABLE} as d,
             unnest(generate_series(d.window_start, d.window_end, interval 1 day)) as day(sales_date)
    """
    excluded = con.sql(f"select count(*) from ({anomalies})").fetchall()[0][0]
    sql = f"""
        select features.* from ({features}) as features
        anti join ({anomalies}) as anomalies using (store_id, sku_id, sales_date)
        order by {', '.join(KEY_COLUMNS)}
    """
    return sql, int(excluded)


# ---- metrics -------------------------------------------------------------------------------------


def wape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Weighted absolute percentage error: sum |actual - predicted| / sum actual."""
    total = float(np.sum(np.abs(actual)))
    return float(np.sum(np.abs(actual - predicted)) / total) if total > 0 else float("nan")


def evaluate(frame: pd.DataFrame, predicted: np.ndarray, config: TrainingConfig) -> dict[str, float]:
    """Hold-out and validation metrics of ``predicted`` (aligned with ``frame``, which has ``split``)."""
    y = frame[TARGET].to_numpy(float)
    naive = frame["lag_7d"].to_numpy(float)  # the weekly seasonal naive forecast
    split = frame["split"].to_numpy()
    train, val, hold = split == "train", split == "validation", split == "holdout"
    if not hold.any() or not train.any():
        raise TrainingError("the time split left an empty training or hold-out set: the extract is too short")
    in_sample_naive_mae = float(np.mean(np.abs(y[train] - naive[train])))
    holdout_mae = float(np.mean(np.abs(y[hold] - predicted[hold])))
    holdout_naive_mae = float(np.mean(np.abs(y[hold] - naive[hold])))
    return {
        "train_wape": wape(y[train], predicted[train]),
        "validation_wape": wape(y[val], predicted[val]) if val.any() else float("nan"),
        "holdout_wape": wape(y[hold], predicted[hold]),
        "holdout_mae": holdout_mae,
        "holdout_bias": float(np.sum(predicted[hold] - y[hold]) / max(np.sum(y[hold]), 1e-9)),
        "holdout_mase": holdout_mae / in_sample_naive_mae,
        "holdout_relative_mae": holdout_mae / holdout_naive_mae,
        "seasonal_naive_holdout_wape": wape(y[hold], naive[hold]),
        "seasonal_naive_in_sample_mae": in_sample_naive_mae,
        "seasonal_period_days": float(config.seasonal_period),
    }


# ---- model frames --------------------------------------------------------------------------------


def model_frame(frame: pd.DataFrame, categorical_levels: Mapping[str, list[str]]) -> pd.DataFrame:
    """The feature columns LightGBM sees, categorical ones with the training levels."""
    out = frame.loc[:, list(FEATURES)].copy()
    for column in NUMERIC_FEATURES:
        out[column] = pd.to_numeric(out[column], errors="coerce").astype("float64")
    for column in CATEGORICAL_FEATURES:
        out[column] = pd.Categorical(out[column].astype("object"), categories=categorical_levels[column])
    return out


def _lightgbm():
    try:
        import lightgbm
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise TrainingError("lightgbm is not installed (pip install lightgbm)") from exc
    return lightgbm


# ---- the whole run ---------------------------------------------------------------------------------


def train_baseline(
    con: "duckdb.DuckDBPyConnection",
    artifacts_root: Path,
    *,
    config: TrainingConfig | None = None,
    version: str | None = None,
    retrain_event_ids: tuple[str, ...] = (),
    progress: bool = True,
    echo: Callable[[str], None] = print,
) -> TrainingResult:
    """Extract, split, train, evaluate and write a new immutable version of the baseline."""
    from tqdm import tqdm

    lgb = _lightgbm()
    config = config or TrainingConfig()
    sql, excluded = training_extract_sql(con, config)
    echo(f"extracting training data from {FEATURES_TABLE} (known anomaly cells left out: {excluded})")
    frame = con.sql(sql).df()
    if frame.empty:
        raise TrainingError(f"{FEATURES_TABLE} has no row with enough history to train on")
    fingerprint = sql_fingerprint(con, sql, KEY_COLUMNS + (TARGET,) + FEATURES)
    dates = pd.to_datetime(frame["sales_date"]).dt.date
    data_start, data_end = min(dates), max(dates)
    distinct = sorted(set(dates))
    if len(distinct) > 1 and min(b - a for a, b in zip(distinct, distinct[1:])).days > 1:
        raise TrainingError(
            f"{FEATURES_TABLE} is not daily (its sales dates are {min(b - a for a, b in zip(distinct, distinct[1:])).days} "
            "days apart: vars.sales_grain is week?): the learned baseline's features and split are daily. Train on a "
            "warehouse built at sales_grain: day, or keep the built-in baseline \"0\", which follows the grain"
        )
    splits = Splits.ending(data_end, config)
    frame["split"] = splits.label(frame["sales_date"])
    levels = {c: sorted(frame[c].dropna().astype(str).unique().tolist()) for c in CATEGORICAL_FEATURES}
    x = model_frame(frame, levels)
    y = frame[TARGET].to_numpy(float)
    train, val = (frame["split"] == "train").to_numpy(), (frame["split"] == "validation").to_numpy()
    if not train.any() or not val.any():
        raise TrainingError(
            f"{len(set(dates))} days of data leave no training or validation days after a "
            f"{config.holdout_days}-day hold-out and {config.validation_days}-day validation"
        )
    train_set = lgb.Dataset(x[train], y[train], categorical_feature=list(CATEGORICAL_FEATURES), free_raw_data=False)
    valid_set = lgb.Dataset(x[val], y[val], reference=train_set)
    with tqdm(total=config.num_boost_round, unit="tree", desc="training baseline", disable=not progress) as bar:
        booster = lgb.train(
            dict(config.params),
            train_set,
            num_boost_round=config.num_boost_round,
            valid_sets=[valid_set],
            valid_names=["validation"],
            callbacks=[
                lgb.early_stopping(config.early_stopping_rounds, verbose=False),
                lambda env: bar.update(1),
            ],
        )
        bar.total = bar.n  # early stopping ends the bar here
        bar.refresh()
    best = int(booster.best_iteration or booster.current_iteration())
    predicted = booster.predict(x, num_iteration=best)
    metrics = evaluate(frame, predicted, config) | {"best_iteration": float(best)}

    echo("summarising the training distributions for drift monitoring")
    train_sql = f"select * from ({sql}) where sales_date <= date '{splits.train_end.isoformat()}'"
    reference = summarise(con, long_features_sql(train_sql, {f: quote(f) for f in NUMERIC_FEATURES}))
    counts = frame["split"].value_counts().to_dict()
    manifest = Manifest(
        model_name=MODEL_NAME,
        model_version=version or next_version(artifacts_root, MODEL_NAME),
        trained_on=data_end,
        description=(
            "LightGBM (tweedie) baseline of expected units per store × SKU × day from sales history "
            f"as of {FEATURE_HORIZON_DAYS} days earlier, calendar, campaigns and context."
        ),
        dataset_fingerprint=fingerprint,
        training_rows=int(len(frame)),
        data_start=data_start,
        data_end=data_end,
        features=FEATURES,
        categorical_levels=levels,
        parameters=dict(config.params)
        | {
            "num_boost_round": config.num_boost_round,
            "early_stopping_rounds": config.early_stopping_rounds,
            "best_iteration": best,
            "feature_horizon_days": FEATURE_HORIZON_DAYS,
            "holdout_days": config.holdout_days,
            "validation_days": config.validation_days,
            "excluded_known_anomaly_cells": excluded,
        },
        metrics={k: (round(v, 6) if np.isfinite(v) else None) for k, v in metrics.items()},
        splits={
            "train": {"start": data_start.isoformat(), "end": splits.train_end.isoformat(), "rows": int(counts.get("train", 0))},
            "validation": {
                "start": splits.validation_start.isoformat(), "end": splits.validation_end.isoformat(),
                "rows": int(counts.get("validation", 0)),
            },
            "holdout": {
                "start": splits.holdout_start.isoformat(), "end": splits.holdout_end.isoformat(),
                "rows": int(counts.get("holdout", 0)),
            },
        },
        reference={f: s.to_dict() for f, s in reference.items()},
        confidence_metric=round(max(0.0, 1.0 - metrics["holdout_wape"]), 6),
        retrain_event_ids=tuple(retrain_event_ids),
        library={"lightgbm": lgb.__version__, "mrs": MRS_VERSION, "python": platform.python_version()},
    )
    path = write_artifact(artifacts_root, manifest, booster.model_to_string(num_iteration=best))
    return TrainingResult(read_manifest(path / MANIFEST_FILE), path)


def summary_text(result: TrainingResult) -> str:
    """What ``mrs train`` prints at the end."""
    m = result.manifest
    metric = m.metrics
    split = m.splits
    return "\n".join(
        [
            f"trained {m.model_name} version {m.model_version} -> {result.path}",
            f"  data        {m.data_start} .. {m.data_end}, {m.training_rows:,} rows (fingerprint {m.dataset_fingerprint})",
            "  splits      "
            + ", ".join(
                f"{name} {split[name]['start']}..{split[name]['end']} ({split[name]['rows']:,})"
                for name in ("train", "validation", "holdout")
            ),
            f"  trees       {m.parameters['best_iteration']} (early stopping on validation)",
            f"  validation  WAPE {metric['validation_wape']:.3f}",
            f"  hold-out    WAPE {metric['holdout_wape']:.3f}  MASE {metric['holdout_mase']:.3f} vs weekly seasonal naive "
            f"(naive WAPE {metric['seasonal_naive_holdout_wape']:.3f}, MAE ratio {metric['holdout_relative_mae']:.3f})",
            f"  confidence  {m.confidence_metric:.3f} (1 - hold-out WAPE)",
            "next: `dbt build` registers it in model_registry_log; then "
            f"`mrs approve {m.model_name} {m.model_version} --by NAME --reason TEXT` and set "
            f"vars.active_model_versions.{m.model_name}: \"{m.model_version}\" to activate it",
        ]
    )
