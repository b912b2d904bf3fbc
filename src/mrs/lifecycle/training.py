"""Training outside the DAG: ``mrs train baseline``.

1. **Extract** the training data from the warehouse, opened read-only: the learned baseline's
   features (:mod:`mrs.lifecycle.features`) for every store × SKU × period with enough history,
   minus the known anomalies - the store × SKU × day cells inside the windows of ``detection_log``
   (the MRDL, the authoritative record of anomalies), so the baseline learns normal demand.
2. **Split by time**, in periods of the warehouse's sales grain (``vars.sales_grain``, read from
   the spacing of the sales dates: 1 day or 7 days): the last ``holdout_periods`` periods are the
   hold-out, the ``validation_periods`` before them the validation set (early stopping),
   everything earlier the training set.
3. **Train** a LightGBM regressor with the tweedie objective (as the M5 winners did for
   intermittent retail demand), deterministic (fixed seed, one thread, row-wise histograms).
4. **Evaluate** on the hold-out: WAPE, and MASE against the seasonal naive forecast (the units one
   season earlier: 7 days at daily grain, 52 weeks at weekly grain), scaled by the naive forecast's
   in-sample error on the training set (Hyndman's MASE, pooled over all series, over the rows that
   have a value one season earlier); plus the plain ratio of MAEs on the hold-out.
5. **Write** an immutable artefact with its manifest (version, ``trained_on`` = the last day of the
   extract, dataset fingerprint, parameters - the sales grain among them -, metrics, split
   boundaries, reference distributions of the numeric features on the training set for drift
   monitoring).
"""

from __future__ import annotations

import itertools
import platform
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mrs import __version__ as MRS_VERSION
from mrs.lifecycle.artifacts import MANIFEST_FILE, Manifest, next_version, read_manifest, write_artifact
from mrs.lifecycle.drift import long_features_sql, summarise
from mrs.lifecycle.features import (
    CATEGORICAL_FEATURES,
    FEATURE_HORIZON_DAYS,
    FEATURES,
    KEY_COLUMNS,
    NUMERIC_FEATURES,
    TARGET,
    baseline_features_sql,
)
from mrs.lifecycle.schemas import sql_fingerprint
from mrs.logs import quote
from mrs.minority.config import GRAINS, SalesGrain

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

FEATURES_TABLE = "intermediate.int_sales_features"
DETECTIONS_TABLE = "ml.detection_log"
KNOWN_ANOMALIES_TABLE = "intermediate.int_minority__known_anomaly_days"
"""The known anomaly cells (every detection's window), which training leaves out."""
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

    #: the last periods (days, or weeks at weekly grain) of the extract, never seen in training:
    #: the honest estimate of the error
    holdout_periods: int = 14
    #: the periods before the hold-out, used for early stopping
    validation_periods: int = 14
    num_boost_round: int = 2000
    early_stopping_rounds: int = 100
    #: leave out the cells of detection_log's anomaly windows (the MRDL) from every split
    exclude_known_anomalies: bool = True
    params: dict[str, Any] = field(default_factory=default_lightgbm_params)

    def __post_init__(self) -> None:
        if self.holdout_periods < 1 or self.validation_periods < 1:
            raise TrainingError("holdout_periods and validation_periods must be >= 1")
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
    def ending(cls, last_day: date, config: TrainingConfig, grain: SalesGrain = SalesGrain()) -> Splits:
        period = grain.period_days
        holdout_start = last_day - timedelta(days=(config.holdout_periods - 1) * period)
        validation_start = holdout_start - timedelta(days=config.validation_periods * period)
        return cls(  # each split named by its first and last period
            train_end=validation_start - timedelta(days=period),
            validation_start=validation_start,
            validation_end=holdout_start - timedelta(days=period),
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


def _table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, name = qualified.split(".")
    return bool(
        con.sql(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            params=[schema, name],
        ).fetchall()[0][0]
    )


def training_extract_sql(con: duckdb.DuckDBPyConnection, config: TrainingConfig) -> tuple[str, int]:
    """SQL of the training extract (sorted by key) and how many cells it leaves out as known anomalies.

    Beside the features: ``seasonal_naive_units``, the units one season earlier (``lag_7d`` of
    ``int_sales_features``: 7 days, or 52 weeks at weekly grain), the forecast MASE compares against.
    """
    if not _table_exists(con, FEATURES_TABLE):
        raise TrainingError(f"{FEATURES_TABLE} is not in the warehouse: run `dbt build` first")
    features = f"""
        select features.*, cast(season.lag_7d as double) as seasonal_naive_units
        from ({baseline_features_sql(FEATURES_TABLE)}) as features
        left join {FEATURES_TABLE} as season using (store_id, sku_id, sales_date)
    """
    if not config.exclude_known_anomalies or not _table_exists(con, KNOWN_ANOMALIES_TABLE):
        if config.exclude_known_anomalies and _table_exists(con, DETECTIONS_TABLE):
            raise TrainingError(
                f"{DETECTIONS_TABLE} is in the warehouse but {KNOWN_ANOMALIES_TABLE} is not: run `dbt build` first"
            )
        return f"select * from ({features}) order by {', '.join(KEY_COLUMNS)}", 0
    excluded = con.sql(f"select count(*) from {KNOWN_ANOMALIES_TABLE}").fetchall()[0][0]
    sql = f"""
        select features.* from ({features}) as features
        where not exists (
            select 1 from {KNOWN_ANOMALIES_TABLE} as anomalies
            where anomalies.store_id = features.store_id
                and anomalies.sku_id = features.sku_id
                and anomalies.sales_date = features.sales_date
        )
        order by {", ".join(KEY_COLUMNS)}
    """
    return sql, int(excluded)


# ---- metrics -------------------------------------------------------------------------------------


def wape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Weighted absolute percentage error: sum |actual - predicted| / sum actual."""
    total = float(np.sum(np.abs(actual)))
    return float(np.sum(np.abs(actual - predicted)) / total) if total > 0 else float("nan")


def evaluate(frame: pd.DataFrame, predicted: np.ndarray, grain: SalesGrain = SalesGrain()) -> dict[str, float]:
    """Hold-out and validation metrics of ``predicted`` (aligned with ``frame``, which has ``split``
    and ``seasonal_naive_units``, the units one season of ``grain`` earlier)."""
    y = frame[TARGET].to_numpy(float)
    naive = frame["seasonal_naive_units"].to_numpy(float)
    split = frame["split"].to_numpy()
    train, val, hold = split == "train", split == "validation", split == "holdout"
    if not hold.any() or not train.any():
        raise TrainingError("the time split left an empty training or hold-out set: the extract is too short")
    # the naive forecast exists only a season into each series (52 weeks at weekly grain)
    naive_train, naive_hold = train & np.isfinite(naive), hold & np.isfinite(naive)
    if not naive_train.any():
        raise TrainingError(
            f"no training row has units one season ({grain.season_periods} periods of vars.sales_grain "
            f"{grain.name!r}) earlier, so MASE has no scale: the extract is too short (train on more history, or "
            "a shorter --validation-periods / --holdout-periods)"
        )
    in_sample_naive_mae = float(np.mean(np.abs(y[naive_train] - naive[naive_train])))
    holdout_mae = float(np.mean(np.abs(y[hold] - predicted[hold])))
    holdout_naive_mae = float(np.mean(np.abs(y[naive_hold] - naive[naive_hold]))) if naive_hold.any() else float("nan")
    holdout_model_mae_where_naive = (
        float(np.mean(np.abs(y[naive_hold] - predicted[naive_hold]))) if naive_hold.any() else float("nan")
    )
    return {
        "train_wape": wape(y[train], predicted[train]),
        "validation_wape": wape(y[val], predicted[val]) if val.any() else float("nan"),
        "holdout_wape": wape(y[hold], predicted[hold]),
        "holdout_mae": holdout_mae,
        "holdout_bias": float(np.sum(predicted[hold] - y[hold]) / max(np.sum(y[hold]), 1e-9)),
        "holdout_mase": holdout_mae / in_sample_naive_mae,
        "holdout_relative_mae": holdout_model_mae_where_naive / holdout_naive_mae,
        "seasonal_naive_holdout_wape": wape(y[naive_hold], naive[naive_hold]) if naive_hold.any() else float("nan"),
        "seasonal_naive_in_sample_mae": in_sample_naive_mae,
        "seasonal_period_days": float(grain.season_periods * grain.period_days),
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
    con: duckdb.DuckDBPyConnection,
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
    grain = warehouse_sales_grain(con)
    echo(f"sales grain: {grain.name} (a season of {grain.season_periods} periods); splits and MASE in {grain.name}s")
    echo(f"extracting training data from {FEATURES_TABLE} (known anomaly cells left out: {excluded})")
    frame = con.sql(sql).df()
    if frame.empty:
        raise TrainingError(f"{FEATURES_TABLE} has no row with enough history to train on")
    fingerprint = sql_fingerprint(con, sql, KEY_COLUMNS + (TARGET,) + FEATURES)
    dates = pd.to_datetime(frame["sales_date"]).dt.date
    data_start, data_end = min(dates), max(dates)
    splits = Splits.ending(data_end, config, grain)
    frame["split"] = splits.label(frame["sales_date"])
    levels = {c: sorted(frame[c].dropna().astype(str).unique().tolist()) for c in CATEGORICAL_FEATURES}
    x = model_frame(frame, levels)
    y = frame[TARGET].to_numpy(float)
    train, val = (frame["split"] == "train").to_numpy(), (frame["split"] == "validation").to_numpy()
    if not train.any() or not val.any():
        raise TrainingError(
            f"{len(set(dates))} {grain.name}s of data leave no training or validation {grain.name}s after a "
            f"{config.holdout_periods}-{grain.name} hold-out and {config.validation_periods}-{grain.name} validation"
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
    metrics = evaluate(frame, predicted, grain) | {"best_iteration": float(best)}

    echo("summarising the training distributions for drift monitoring")
    train_sql = f"select * from ({sql}) where sales_date <= date '{splits.train_end.isoformat()}'"
    reference = summarise(con, long_features_sql(train_sql, {f: quote(f) for f in NUMERIC_FEATURES}))
    counts = frame["split"].value_counts().to_dict()
    manifest = Manifest(
        model_name=MODEL_NAME,
        model_version=version or next_version(artifacts_root, MODEL_NAME),
        trained_on=data_end,
        description=(
            f"LightGBM (tweedie) baseline of expected units per store × SKU × {grain.name} from sales history "
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
            "sales_grain": grain.name,
            "season_periods": grain.season_periods,
            "holdout_periods": config.holdout_periods,
            "validation_periods": config.validation_periods,
            "excluded_known_anomaly_cells": excluded,
        },
        metrics={k: (round(v, 6) if np.isfinite(v) else None) for k, v in metrics.items()},
        splits={
            "train": {"start": data_start.isoformat(), "end": splits.train_end.isoformat(), "rows": int(counts.get("train", 0))},
            "validation": {
                "start": splits.validation_start.isoformat(),
                "end": splits.validation_end.isoformat(),
                "rows": int(counts.get("validation", 0)),
            },
            "holdout": {
                "start": splits.holdout_start.isoformat(),
                "end": splits.holdout_end.isoformat(),
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


def warehouse_sales_grain(con: duckdb.DuckDBPyConnection) -> SalesGrain:
    """The sales grain the warehouse was built at, from the spacing of the sales dates of
    ``int_sales_features``: the grain whose period is the smallest gap (1 day, or 7 days at
    ``vars.sales_grain: week``)."""
    dates = [
        row[0]
        for row in con.sql(
            f"select distinct cast(sales_date as date) as sales_date from {FEATURES_TABLE} order by sales_date"
        ).fetchall()
    ]
    if len(dates) < 2:
        return SalesGrain()
    gap = min((later - earlier).days for earlier, later in itertools.pairwise(dates))
    for name, (period_days, _) in GRAINS.items():
        if gap == period_days:
            return SalesGrain(name)
    raise TrainingError(
        f"{FEATURES_TABLE}'s sales dates are at least {gap} days apart, which is no sales grain "
        f"({', '.join(f'{n}: {d} day(s)' for n, (d, _) in GRAINS.items())})"
        f": rebuild with vars.sales_grain set to the data's grain"
    )


def _season_text(parameters: Mapping[str, Any]) -> str:
    """'units 7 days earlier' / 'units 52 weeks earlier', from a manifest's parameters."""
    grain = str(parameters.get("sales_grain", "day"))
    return f"units {parameters.get('season_periods', GRAINS['day'][1])} {grain}s earlier"


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


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
            f"  hold-out    WAPE {_figure(metric['holdout_wape'])}  MASE {_figure(metric['holdout_mase'])} vs seasonal naive "
            f"({_season_text(m.parameters)}; naive WAPE {_figure(metric['seasonal_naive_holdout_wape'])}, "
            f"MAE ratio {_figure(metric['holdout_relative_mae'])})",
            f"  confidence  {m.confidence_metric:.3f} (1 - hold-out WAPE)",
            "next: `dbt build` registers it in model_registry_log; then "
            f"`mrs approve {m.model_name} {m.model_version} --by NAME --reason TEXT` and set "
            f'vars.active_model_versions.{m.model_name}: "{m.model_version}" to activate it',
        ]
    )
