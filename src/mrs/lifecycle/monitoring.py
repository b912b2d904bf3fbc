"""Drift monitoring (``model_monitoring_log``) and retrain events (``model_retrain_event_log``).

Every build evaluates each **active** model version on the latest data (the *current* period: the
last ``current_days`` days up to the data's latest day, the ``as_of_date``) against a *reference*:

* for a trained version, the reference is its training data: the feature distributions in its
  manifest and its hold-out WAPE and confidence from the registry (``reference_source`` =
  ``manifest`` / ``card``);
* for a built-in version (nothing was trained), the ``reference_days`` before the current period
  (``reference_source`` = ``reference_period``).

Three signals (seed 004, section 6), and for the anomaly classifier a fourth, each a row with its
value, threshold and ``is_breach``:

* ``feature_drift`` - per input feature, PSI, KS and the normalised Wasserstein distance
  (:mod:`mrs.lifecycle.drift`); the configured method (Evidently's default: normalised
  Wasserstein, threshold 0.1) decides if the feature drifted, and a ``dataset`` row breaches when
  the share of drifted features reaches ``drift_share_threshold`` (Evidently's 0.5);
* ``residual_drift`` - the relative rise of the error (WAPE) now over the reference error;
* ``confidence_decay`` - the relative drop of the mean ``model_confidence_metric`` of the rows the
  version scored in the current period.

* ``detection_rate`` - the anomaly classifier's detections per store × SKU × day now over the
  rate at training (a trained version's ``detections_per_pair_day`` metric) or in the reference
  period; a breach when it moved more than ``detection_rate_factor`` times either way.

A signal with fewer than ``min_rows`` values on either side is ``insufficient_data``, never a breach.
Monitoring is a function of the data, the versions and the configuration: the evaluation's
fingerprint hashes its inputs (not its run), so a re-run on unchanged inputs appends nothing. The
inputs are the SQL of each signal and the rows of every relation it reads, hashed in the warehouse
with DuckDB's row hash (:func:`mrs.duckdb_relations.warehouse_fingerprint`) before any signal is
computed (a logged evaluation costs those hashes only); after a DuckDB upgrade the latest
evaluation is computed and logged once more.

Retrain events: a **reactive** event when the latest evaluation of an active version breaches
(the dataset-level feature drift, residual drift or confidence decay); a **proactive** one when the
data has moved ``proactive_retrain_days`` past the version's ``trained_on`` (data time, so it is
reproducible). An event is *open* until a registered version lists it in ``retrain_event_ids``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import asdict, dataclass, fields
from datetime import date, timedelta
from functools import partial
from typing import Any

import duckdb
import pyarrow as pa

from mrs.duckdb_relations import computed_once, query_relation, warehouse_fingerprint
from mrs.lifecycle.drift import (
    AUTO,
    EVIDENTLY_DEFAULT_PVALUE,
    EVIDENTLY_DEFAULT_THRESHOLD,
    METHODS,
    DistributionSummary,
    compare,
    drifted,
    exact_mean_sql,
    exact_sum_sql,
    long_features_sql,
    resolve_method,
    summarise,
)
from mrs.lifecycle.features import DRIFT_FEATURES, baseline_features_sql
from mrs.lifecycle.governance import ActiveVersion
from mrs.lifecycle.schemas import MONITORING_LOG, RETRAIN_EVENT_LOG, keep_unlogged, stable_id
from mrs.logs import PER_RUN_COLUMNS, RunContext, finalize, holds_value, quote
from mrs.minority.relations import current_rows_sql, sql_literal


class MonitoringConfigError(ValueError):
    """``vars.model_monitoring`` holds a value monitoring cannot work with."""


@dataclass(frozen=True)
class MonitoringConfig:
    """``vars.model_monitoring``: windows and thresholds of drift monitoring and retraining."""

    #: days up to the latest data day that make up the current period
    current_days: int = 14
    #: for built-in versions: days before the current period that are the reference
    reference_days: int = 56
    #: the feature-drift statistic that decides: ``auto`` (Evidently's default rule - the KS test
    #: for references of at most 1,000 values, else the normalised Wasserstein distance),
    #: ``wasserstein_normed``, ``psi``, ``ks`` or ``ks_pvalue``
    drift_method: str = AUTO
    #: a feature drifted when its distance (Wasserstein, PSI, KS statistic) exceeds this (Evidently: 0.1)
    drift_threshold: float = EVIDENTLY_DEFAULT_THRESHOLD
    #: a feature drifted when its KS test p-value is below this (Evidently: 0.05)
    drift_pvalue_threshold: float = EVIDENTLY_DEFAULT_PVALUE
    #: the dataset drifted when at least this share of the features drifted (Evidently's default)
    drift_share_threshold: float = 0.5
    #: residual drift breaches when WAPE rose by more than this fraction of the reference WAPE
    #: (0.5: the error grew by half - week-to-week variation of the demo models stays well below)
    residual_drift_threshold: float = 0.5
    #: confidence decay breaches when the mean confidence fell by more than this fraction
    confidence_decay_threshold: float = 0.1
    #: a proactive retrain event when the data is this many days past the version's trained_on
    proactive_retrain_days: int = 28
    #: detection rate breaches when an active classifier detects this many times more, or fewer,
    #: events per store x SKU x day than it did at training (or in the reference period)
    detection_rate_factor: float = 5.0
    #: fewer values than this on either side make a signal insufficient_data
    min_rows: int = 100
    #: for features averaged per entity (products): fewer entities than this are insufficient_data
    min_entities: int = 20

    def __post_init__(self) -> None:
        if self.drift_method not in (AUTO,) + METHODS:
            raise MonitoringConfigError(
                f"vars.model_monitoring.drift_method must be one of {(AUTO,) + METHODS}, got {self.drift_method!r}"
            )
        for name in ("current_days", "reference_days", "min_rows", "min_entities"):
            if getattr(self, name) < 1:
                raise MonitoringConfigError(f"vars.model_monitoring.{name} must be >= 1, got {getattr(self, name)}")
        if self.proactive_retrain_days < 0:
            raise MonitoringConfigError("vars.model_monitoring.proactive_retrain_days must be >= 0")

    @classmethod
    def from_mapping(cls, value: str | Mapping[str, Any] | None) -> MonitoringConfig:
        """From the var (a mapping, or JSON text of one); missing keys keep their defaults."""
        if isinstance(value, str):
            data = json.loads(value) if value.strip() else {}
        else:
            data = dict(value or {})
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise MonitoringConfigError(f"vars.model_monitoring has unknown key(s) {unknown} (known: {sorted(known)})")
        defaults = cls()
        typed = {k: type(getattr(defaults, k))(v) for k, v in data.items()}
        return cls(**typed)

    @property
    def fingerprint(self) -> str:
        return stable_id(*(f"{k}={v}" for k, v in sorted(asdict(self).items())))

    def feature_threshold(self, method: str) -> float:
        return self.drift_pvalue_threshold if method == "ks_pvalue" else self.drift_threshold


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def where(self, column: str = "obs_date") -> str:
        return f"{column} between date '{self.start.isoformat()}' and date '{self.end.isoformat()}'"


# ---- what each model is monitored on -----------------------------------------------------------
# Each source is SQL over the relations passed in (named below) with an ``obs_date`` column.
# Relations: sales_features (int_sales_features), insight_features (int_product_insight_features),
# baseline_log, product_insights_log, detection_log, cluster_log, attribution_log, known_anomaly_days
# (int_minority__known_anomaly_days).

Versions = Mapping[str, str]


def _baseline_rows(v: Versions) -> str:
    """The active baseline's current rows, less the known anomaly cells (int_minority__known_anomaly_days)."""
    rows = current_rows_sql("baseline_log", ("store_id", "sku_id", "sales_date"), {"model_version": v["baseline"]})
    return f"""select b.*, b.sales_date as obs_date from ({rows}) as b
               where not exists (
                   select 1 from known_anomaly_days as a
                   where a.store_id = b.store_id and a.sku_id = b.sku_id and a.sales_date = b.sales_date
               )"""


def _insight_rows(v: Versions) -> str:
    return current_rows_sql("product_insights_log", ("product_id", "as_of_date"), {"model_version": v["product_insights"]})


def _stage_confidence(log: str, model: str) -> Callable[[Versions], str]:
    def sql(v: Versions) -> str:
        if log == "detection_log":
            return f"""select window_end as obs_date, model_confidence_metric as confidence
                       from detection_log where model_version = {sql_literal(v[model])}"""
        return f"""select d.window_end as obs_date, s.model_confidence_metric as confidence
                   from {log} as s join detection_log as d on d.log_id = s.detection_log_id
                   where s.model_version = {sql_literal(v[model])}"""

    return sql


def _detections_per_pair_day(v: Versions) -> str:
    """One row per scored store × SKU × day of the active baseline with the active classifier's
    detections ending on it (0 or more)."""
    baseline = current_rows_sql("baseline_log", ("store_id", "sku_id", "sales_date"), {"model_version": v["baseline"]})
    return f"""select b.sales_date as obs_date, count(d.anomaly_id) as detections
               from ({baseline}) as b
               left join detection_log as d
                   on d.store_id = b.store_id and d.sku_id = b.sku_id and d.window_end = b.sales_date
                   and d.model_version = {sql_literal(v["anomaly_classifier"])}
                   and d.baseline_model_version = {sql_literal(v["baseline"])}
               group by b.store_id, b.sku_id, b.sales_date"""


@dataclass(frozen=True)
class MonitorSpec:
    """What one model is monitored on (each a function of the active versions giving SQL)."""

    model_name: str
    as_of: str
    features: Callable[[Versions], str] | None = None
    drift_features: Mapping[str, str] | None = None
    #: average the features per entity (e.g. product_id) within each period before comparing
    entity: str | None = None
    residuals: Callable[[Versions], str] | None = None
    confidence: Callable[[Versions], str] | None = None
    #: SQL with obs_date and detections (events ending that day) per scored store x SKU x day
    detection_rate: Callable[[Versions], str] | None = None

    def source(self, signal: str, versions: Versions) -> str:
        """The SQL a signal reads (``features``, ``residuals``, ``confidence`` or ``detection_rate``)."""
        make: Callable[[Versions], str] | None = getattr(self, signal)
        if make is None:
            raise MonitoringConfigError(f"{self.model_name} has no {signal} to monitor")
        return make(versions)


SALES_AS_OF = "select max(sales_date) from sales_features"

MONITORS: dict[str, MonitorSpec] = {
    "baseline": MonitorSpec(
        "baseline",
        as_of=SALES_AS_OF,
        features=lambda v: f"select *, sales_date as obs_date from ({baseline_features_sql('sales_features')})",
        drift_features={f: quote(f) for f in DRIFT_FEATURES},
        residuals=lambda v: f"select obs_date, actual_units as actual, expected_units as predicted from ({_baseline_rows(v)})",
        confidence=lambda v: f"select obs_date, model_confidence_metric as confidence from ({_baseline_rows(v)})",
    ),
    "product_insights": MonitorSpec(
        "product_insights",
        as_of="select max(as_of_date) from insight_features",
        features=lambda v: "select *, as_of_date as obs_date from insight_features",
        drift_features={
            "trend_ratio": "trend_ratio",
            "alerts_last_7d": "alerts_last_7d",
            "price_to_msrp": "latest_price / nullif(msrp, 0)",
        },
        # a product's daily rows are one product seen 14 times, not 14 independent values
        entity="product_id",
        # next week's forecast against the mean price of the 7 days that followed
        residuals=lambda v: (
            f"""select f.as_of_date as obs_date, f.mean_last_7d as actual, i.price_forecast_next_week as predicted
                                from ({_insight_rows(v)}) as i
                                join insight_features as f
                                    on f.product_id = i.product_id and f.as_of_date = i.as_of_date + 7
                                where f.mean_last_7d is not null"""
        ),
        confidence=lambda v: f"select as_of_date as obs_date, model_confidence_metric as confidence from ({_insight_rows(v)})",
    ),
    "anomaly_classifier": MonitorSpec(
        "anomaly_classifier",
        as_of=SALES_AS_OF,
        # its input: the active baseline's residuals outside known anomalies
        features=lambda v: _baseline_rows(v),
        drift_features={"relative_residual": "residual_units / greatest(expected_units, 1)"},
        confidence=_stage_confidence("detection_log", "anomaly_classifier"),
        detection_rate=lambda v: _detections_per_pair_day(v),
    ),
    "cluster_model": MonitorSpec(
        "cluster_model",
        as_of=SALES_AS_OF,
        confidence=_stage_confidence("cluster_log", "cluster_model"),
    ),
    "attribution_model": MonitorSpec(
        "attribution_model",
        as_of=SALES_AS_OF,
        confidence=_stage_confidence("attribution_log", "attribution_model"),
    ),
}
"""The monitored quantities of every model in the project."""

MONITOR_RELATIONS: tuple[str, ...] = (
    "sales_features",
    "insight_features",
    "baseline_log",
    "product_insights_log",
    "detection_log",
    "cluster_log",
    "attribution_log",
    "known_anomaly_days",
)


# ---- evaluation ---------------------------------------------------------------------------------


PERIOD_COLUMNS: dict[str, str] = {
    "sales_features": "sales_date",
    "insight_features": "as_of_date",
    "baseline_log": "sales_date",
    "product_insights_log": "as_of_date",
    "detection_log": "window_end",
    "known_anomaly_days": "sales_date",
}
"""The period column of each monitored relation that has one: an evaluation reads only its rows
from the evaluation's first day on (less :data:`PERIOD_MARGIN_DAYS`), never the whole history."""

PERIOD_MARGIN_DAYS = 7
"""Days read before an evaluation's first day: the 7-day lags of the baseline features
(:data:`mrs.lifecycle.features.FEATURE_HORIZON_DAYS`) and of the insights' next-week residuals."""


class _Sql:
    """Runs SQL over the named relations, inlined as CTEs; with ``since``, each relation of
    :data:`PERIOD_COLUMNS` restricted to its rows from ``since`` on.

    A source that several statistics read is computed once into a temporary table
    (:meth:`materialise`), dropped by :meth:`close`. :meth:`fingerprint` tells what a query reads
    without computing it.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        relations: Mapping[str, duckdb.DuckDBPyRelation],
        since: date | None = None,
    ):
        self.con = con
        self.temporary = ExitStack()

        def body(name: str, relation: duckdb.DuckDBPyRelation) -> str:
            column = PERIOD_COLUMNS.get(name)
            if since is None or column is None:
                return relation.sql_query()
            return f"select * from ({relation.sql_query()}) where {quote(column)} >= date '{since.isoformat()}'"

        self.names = tuple(relations)
        self.prefix = "with " + ",\n".join(f"{quote(n)} as ({body(n, r)})" for n, r in relations.items())
        self.relation_fingerprints: dict[str, str] = {}

    def wrap(self, sql: str) -> str:
        return f"{self.prefix}\n{sql}"

    def rows(self, sql: str) -> list[tuple]:
        return self.con.sql(self.wrap(sql)).fetchall()

    def materialise(self, name: str, sql: str) -> str:
        """``sql`` computed once into a temporary table (in the warehouse, spilling if large); its name."""
        table = f"mrs_monitoring_{name}"
        self.temporary.enter_context(computed_once(self.con.sql(self.wrap(sql)), table))
        return table

    def close(self) -> None:
        self.temporary.close()

    def fingerprint(self, sql: str) -> str:
        """What ``sql`` computes, known before it is computed: its text and the rows of every named
        relation it reads (as restricted here, without the :data:`mrs.logs.PER_RUN_COLUMNS` that say
        which build wrote a row: two warehouses built from the same data log the same evaluation;
        DuckDB's row hash, each relation hashed once). A
        logged evaluation is recognised on a re-run without computing its features (3.6 s for the
        baseline's 70 days at 10M) or the current rows of a log."""
        reads = sorted(duckdb.get_table_names(sql, qualified=False))
        unknown = [name for name in reads if name not in self.names]
        if unknown:
            raise MonitoringConfigError(f"a monitored signal reads {unknown}, not a monitored relation ({list(self.names)})")
        for name in reads:
            if name not in self.relation_fingerprints:
                relation = self.con.sql(self.wrap(f"select * from {quote(name)}"))
                content_columns = [c for c in relation.columns if c not in PER_RUN_COLUMNS]
                self.relation_fingerprints[name] = warehouse_fingerprint(relation, content_columns)[1]
        return stable_id(sql, *(f"{name}:{self.relation_fingerprints[name]}" for name in reads))


@dataclass(frozen=True)
class Signal:
    """One signal of an evaluation: the fingerprint of what it reads (part of the evaluation's id)
    and its rows, computed only when called (a logged evaluation's statistics are not recomputed)."""

    fingerprint: str
    rows: Callable[[], list[dict[str, Any]]]


def _row(
    signal: str, subject: str, method: str, value: float | None, threshold: float, *, enough: bool, breach: bool, **extra: Any
) -> dict[str, Any]:
    breach = bool(enough and value is not None and breach)
    return {
        "signal": signal,
        "subject": subject,
        "method": method,
        "value": value if enough else None,
        "threshold": float(threshold),
        "is_breach": breach,
        "status": "insufficient_data" if not enough else ("breach" if breach else "ok"),
        "psi": None,
        "ks_statistic": None,
        "ks_pvalue": None,
        "wasserstein_normed": None,
        "reference_value": None,
        "current_value": None,
    } | extra


def _period_fields(source: str, reference: Period | None, current: Period, ref_rows: int, cur_rows: int) -> dict[str, Any]:
    return {
        "reference_source": source,
        "reference_start": reference.start if reference else None,
        "reference_end": reference.end if reference else None,
        "current_start": current.start,
        "current_end": current.end,
        "reference_rows": int(ref_rows),
        "current_rows": int(cur_rows),
    }


def _manifest_reference(active: ActiveVersion) -> tuple[Period | None, dict[str, DistributionSummary]] | None:
    raw = active.registry_row.get("reference_distributions")
    if not raw:
        return None
    data = json.loads(raw)
    period = data.get("period") or {}
    ref_period = Period(date.fromisoformat(period["start"]), date.fromisoformat(period["end"])) if period else None
    return ref_period, {f: DistributionSummary.from_dict(s) for f, s in data.get("features", {}).items()}


def _feature_drift(
    db: _Sql,
    spec: MonitorSpec,
    active: ActiveVersion,
    versions: Versions,
    current: Period,
    config: MonitoringConfig,
) -> Signal:
    exprs = dict(spec.drift_features or {})
    manifest = _manifest_reference(active)
    if manifest is not None:
        reference, ref_summaries = manifest[0], {f: s for f, s in manifest[1].items() if f in exprs}
        source = "manifest"
        inputs = Period(current.start, current.end)
    else:
        reference = _reference_period(current, config)
        source, ref_summaries = "reference_period", {}
        inputs = Period(reference.start, current.end)
    # the features of the evaluated days
    entity = f"{spec.entity} as mrs_entity, " if spec.entity else ""
    features = (
        f"select obs_date, {entity}{', '.join(f'{e} as {quote(n)}' for n, e in exprs.items())} "
        f"from ({spec.source('features', versions)}) where {inputs.where()}"
    )
    named = {n: quote(n) for n in exprs}
    return Signal(
        db.fingerprint(features),
        partial(_feature_drift_rows, db, spec, features, named, source, reference, ref_summaries, current, config),
    )


def _feature_drift_rows(
    db: _Sql,
    spec: MonitorSpec,
    features: str,
    named: dict[str, str],
    source: str,
    reference: Period | None,
    ref_summaries: dict[str, DistributionSummary],
    current: Period,
    config: MonitoringConfig,
) -> list[dict[str, Any]]:
    wide = db.materialise(f"{spec.model_name}_features", features)  # computed once: every statistic reads it
    entity_column = "mrs_entity" if spec.entity else None
    if source == "reference_period":
        assert reference is not None  # this source always has its period
        ref_summaries = summarise(db.con, long_features_sql(f"select * from {wide}", named, reference.where(), entity_column))
    cur_summaries = summarise(
        db.con,
        long_features_sql(f"select * from {wide}", named, current.where(), entity_column),
        edges={f: s.bin_edges for f, s in ref_summaries.items()},
    )
    min_values = config.min_rows if spec.entity is None else config.min_entities
    rows, n_drifted, evaluated = [], 0, 0
    for feature in named:
        ref, cur = ref_summaries.get(feature), cur_summaries.get(feature)
        enough = bool(ref and cur and ref.count >= min_values and cur.count >= min_values)
        method = resolve_method(config.drift_method, ref.count if ref else 0)
        threshold = config.feature_threshold(method)
        extra = _period_fields(source, reference, current, ref.count if ref else 0, cur.count if cur else 0)
        value, breach = None, False
        if enough and ref is not None and cur is not None:
            drift = compare(ref, cur)
            value = drift.value(method)
            breach = drifted(method, value, threshold)
            extra |= {
                "psi": drift.psi,
                "ks_statistic": drift.ks,
                "ks_pvalue": drift.ks_pvalue,
                "wasserstein_normed": drift.wasserstein_normed,
                "reference_value": ref.mean,
                "current_value": cur.mean,
            }
            evaluated += 1
            n_drifted += breach
        rows.append(_row("feature_drift", feature, method, value, threshold, enough=enough, breach=breach, **extra))
    share = n_drifted / evaluated if evaluated else None
    rows.append(
        _row(
            "feature_drift",
            "dataset",
            "drifted_feature_share",
            share,
            config.drift_share_threshold,
            enough=evaluated > 0,
            breach=share is not None and share >= config.drift_share_threshold,
            **_period_fields(
                source,
                reference,
                current,
                min((r["reference_rows"] for r in rows), default=0),
                min((r["current_rows"] for r in rows), default=0),
            ),
        )
    )
    return rows


def _aggregate(db: _Sql, sql: str, select: str, period: Period) -> tuple:
    return db.rows(f"select {select} from ({sql}) where {period.where()}")[0]


def _evaluated_rows(sql: str, current: Period, config: MonitoringConfig) -> str:
    """A signal's rows of the current and reference periods."""
    first = _reference_period(current, config).start
    return f"select * from ({sql}) where {Period(first, current.end).where()}"


def _signal_on_rows(db: _Sql, name: str, sql: str, rows_of: Callable[..., list[dict[str, Any]]], *args: Any) -> Signal:
    """A signal over a source's evaluated rows ``sql``: fingerprinted now; when its rows are wanted,
    ``rows_of(db, rows, *args)`` over those rows computed once into a table (read twice)."""

    def rows() -> list[dict[str, Any]]:
        return rows_of(db, f"select * from {db.materialise(name, sql)}", *args)

    return Signal(db.fingerprint(sql), rows)


def _reference_period(current: Period, config: MonitoringConfig) -> Period:
    """The ``reference_days`` right before the current period (a built-in version's reference)."""
    return Period(current.start - timedelta(days=config.reference_days), current.start - timedelta(days=1))


def _residual_drift(
    db: _Sql,
    spec: MonitorSpec,
    active: ActiveVersion,
    versions: Versions,
    current: Period,
    config: MonitoringConfig,
) -> Signal:
    sql = _evaluated_rows(spec.source("residuals", versions), current, config)
    trained = active.registry_row.get("holdout_wape")
    reference = None if trained is not None else _reference_period(current, config)
    return _signal_on_rows(db, f"{spec.model_name}_residuals", sql, _residual_drift_rows, active, reference, current, config)


def _residual_drift_rows(
    db: _Sql, sql: str, active: ActiveVersion, reference: Period | None, current: Period, config: MonitoringConfig
) -> list[dict[str, Any]]:
    wape = f"count(*), {exact_sum_sql('abs(actual - predicted)')} / nullif({exact_sum_sql('abs(actual)')}, 0)"
    cur_rows, cur_wape = _aggregate(db, sql, wape, current)
    if reference is None:
        source, ref_rows = "manifest", int(active.registry_row.get("training_rows") or 0)
        ref_wape = float(active.registry_row["holdout_wape"])
    else:
        ref_rows, ref_wape = _aggregate(db, sql, wape, reference)
        source = "reference_period"
    enough = cur_rows >= config.min_rows and ref_rows >= config.min_rows and bool(ref_wape) and cur_wape is not None
    value = (float(cur_wape) / float(ref_wape) - 1.0) if enough else None
    return _predictions_row(
        "residual_drift",
        "wape_relative_change",
        value,
        config.residual_drift_threshold,
        (ref_wape, cur_wape),
        enough=enough,
        period=_period_fields(source, reference, current, ref_rows, cur_rows),
    )


def _predictions_row(
    signal: str, method: str, value: float | None, threshold: float, values: tuple[Any, Any], *, enough: bool, period: dict
) -> list[dict[str, Any]]:
    """A signal on the predictions: a breach when its relative change exceeds the threshold."""
    breach = value is not None and value > threshold
    reference_value, current_value = values
    return [
        _row(
            signal,
            "predictions",
            method,
            value,
            threshold,
            enough=enough,
            breach=breach,
            reference_value=reference_value,
            current_value=current_value,
            **period,
        )
    ]


def _confidence_decay(
    db: _Sql,
    spec: MonitorSpec,
    active: ActiveVersion,
    versions: Versions,
    current: Period,
    config: MonitoringConfig,
) -> Signal:
    sql = _evaluated_rows(spec.source("confidence", versions), current, config)
    reference = None if active.kind == "trained" else _reference_period(current, config)
    return _signal_on_rows(db, f"{spec.model_name}_confidence", sql, _confidence_decay_rows, active, reference, current, config)


def _confidence_decay_rows(
    db: _Sql, sql: str, active: ActiveVersion, reference: Period | None, current: Period, config: MonitoringConfig
) -> list[dict[str, Any]]:
    cur_rows, cur_mean = _aggregate(db, sql, f"count(*), {exact_mean_sql('confidence')}", current)
    if reference is None:
        source, ref_mean = "card", active.card.confidence_metric
        ref_rows = int(active.registry_row.get("training_rows") or 0)
    else:
        ref_rows, ref_mean = _aggregate(db, sql, f"count(*), {exact_mean_sql('confidence')}", reference)
        source = "reference_period"
    enough = cur_rows >= config.min_rows and ref_rows >= config.min_rows and bool(ref_mean) and cur_mean is not None
    value = (1.0 - float(cur_mean) / float(ref_mean)) if enough else None
    return _predictions_row(
        "confidence_decay",
        "mean_confidence_relative_drop",
        value,
        config.confidence_decay_threshold,
        (ref_mean, cur_mean),
        enough=enough,
        period=_period_fields(source, reference, current, ref_rows, cur_rows),
    )


def _detection_rate(
    db: _Sql,
    spec: MonitorSpec,
    active: ActiveVersion,
    versions: Versions,
    current: Period,
    config: MonitoringConfig,
) -> Signal:
    """Detections per store × SKU × day now over the rate at training (a trained version's
    ``detections_per_pair_day`` metric) or in the reference period; a breach when it moved by
    more than ``detection_rate_factor`` either way (a classifier that went blind, or wild)."""
    sql = spec.source("detection_rate", versions)
    return Signal(db.fingerprint(sql), partial(_detection_rate_rows, db, sql, active, current, config))


def _detection_rate_rows(
    db: _Sql, sql: str, active: ActiveVersion, current: Period, config: MonitoringConfig
) -> list[dict[str, Any]]:
    cur_n, cur_rate = _aggregate(db, sql, "count(*), avg(detections)", current)
    metrics = json.loads(active.registry_row.get("metrics") or "{}")
    trained_rate = metrics.get("detections_per_pair_day")
    reference: Period | None
    if trained_rate is not None:
        reference, ref_n, ref_rate, source = None, int(metrics.get("scored_pair_days", 0)), float(trained_rate), "manifest"
    else:
        reference = _reference_period(current, config)
        ref_n, ref_rate = _aggregate(db, sql, "count(*), avg(detections)", reference)
        source = "reference_period"
    enough = bool(cur_n >= config.min_rows and ref_n >= config.min_rows and ref_rate)
    ratio = float(cur_rate or 0.0) / float(ref_rate) if enough else None
    factor = config.detection_rate_factor
    breach = ratio is not None and (ratio > factor or ratio < 1.0 / factor)
    return [
        _row(
            "detection_rate",
            "detections_per_pair_day",
            "ratio_to_reference",
            ratio,
            factor,
            enough=enough,
            breach=breach,
            reference_value=float(ref_rate) if ref_rate is not None else None,
            current_value=float(cur_rate or 0.0),
            **_period_fields(source, reference, current, ref_n or 0, cur_n or 0),
        )
    ]


def evaluate_model(
    con: duckdb.DuckDBPyConnection,
    relations: Mapping[str, duckdb.DuckDBPyRelation],
    active: ActiveVersion,
    versions: Versions,
    config: MonitoringConfig,
    spec: MonitorSpec | None = None,
    *,
    log_relation: str | None = None,
) -> list[dict[str, Any]]:
    """The signal rows of one active model version (without metadata); empty without data.

    ``spec`` defaults to the model's entry in :data:`MONITORS`. The evaluation's id comes from the
    fingerprints of what it reads; when ``log_relation`` already holds that evaluation (a re-run on
    unchanged data), its statistics are not computed again and no rows are returned.
    """
    spec = spec or MONITORS[active.card.model_name]
    as_of = _Sql(con, relations).rows(spec.as_of)[0][0]
    if as_of is None:
        return []
    current = Period(as_of - timedelta(days=config.current_days - 1), as_of)
    # only the evaluated days (the reference period and the current one) are read, never the history
    since = current.start - timedelta(days=config.reference_days + PERIOD_MARGIN_DAYS)
    db = _Sql(con, relations, since=since)
    rows: list[dict[str, Any]] = []
    try:
        signals = [
            signal(db, spec, active, versions, current, config)
            for signal, wanted in (
                (_feature_drift, spec.features),
                (_residual_drift, spec.residuals),
                (_confidence_decay, spec.confidence),
                (_detection_rate, spec.detection_rate),
            )
            if wanted
        ]
        evaluation_id = stable_id(
            active.card.model_name,
            active.card.model_version,
            active.registry_log_id,
            as_of.isoformat(),
            config.fingerprint,
            *(s.fingerprint for s in signals),
        )
        if holds_value(con, log_relation, "evaluation_id", evaluation_id):  # its rows are appended together
            return []
        for s in signals:
            rows += s.rows()
    finally:
        db.close()
    for row in rows:
        row |= {"as_of_date": as_of, "evaluation_id": evaluation_id, "input_fingerprint": evaluation_id}
        row["log_id"] = stable_id(
            as_of.isoformat(),
            row["signal"],
            row["subject"],
            row["method"],
            active.card.model_name,
            active.card.model_version,
            evaluation_id,
        )
    return rows


def monitor_active_models(
    con: duckdb.DuckDBPyConnection,
    relations: Mapping[str, duckdb.DuckDBPyRelation],
    actives: Mapping[str, ActiveVersion],
    config: MonitoringConfig,
    *,
    log_relation: str | None,
    run: RunContext | None = None,
) -> pa.Table:
    """The ``model_monitoring_log`` step: this build's signal rows not logged yet."""
    missing = [n for n in MONITOR_RELATIONS if n not in relations]
    if missing:
        raise MonitoringConfigError(f"monitoring needs the relations {missing}")
    run = run or RunContext.current()
    versions = {name: a.card.model_version for name, a in actives.items()}
    batches = []
    for name in MONITORS:
        if name not in actives:
            continue
        rows = evaluate_model(con, relations, actives[name], versions, config, log_relation=log_relation)
        outputs = (
            pa.Table.from_pylist(rows, schema=_outputs_schema(MONITORING_LOG))
            if rows
            else _outputs_schema(MONITORING_LOG).empty_table()
        )
        batches.append(finalize(outputs, MONITORING_LOG, actives[name].card, run))
    batch = pa.concat_tables(batches) if batches else MONITORING_LOG.schema.empty_table()
    return keep_unlogged(con, batch, log_relation, MONITORING_LOG.name)


def unmonitored_models(batch: pa.Table) -> dict[str, str]:
    """The models (name: version) whose every signal in a monitoring batch is ``insufficient_data``:
    too small a portfolio or window for ``min_rows`` / ``min_entities``, so nothing watches them."""
    statuses: dict[tuple[str, str], set[str]] = {}
    columns = (batch.column(c).to_pylist() for c in ("model_name", "model_version", "status"))
    for name, version, status in zip(*columns, strict=True):
        statuses.setdefault((name, version), set()).add(status)
    return {name: version for (name, version), seen in statuses.items() if seen == {"insufficient_data"}}


def _outputs_schema(spec: Any) -> pa.Schema:
    return pa.schema(list(spec.columns) + [pa.field("log_id", pa.string()), pa.field("input_fingerprint", pa.string())])


# ---- retrain events -----------------------------------------------------------------------------

REACTIVE_SIGNALS = ("dataset", "predictions", "detections_per_pair_day")
"""Subjects whose breach triggers a reactive event (a single drifted feature alone does not)."""


def latest_evaluation_sql(monitoring_log: str, versions: Versions) -> str:
    """The rows of the latest evaluation (latest as_of_date, then latest scored) of each active version."""
    pairs = (
        " or ".join(f"(model_name = {sql_literal(m)} and model_version = {sql_literal(v)})" for m, v in sorted(versions.items()))
        or "false"
    )
    return f"""
        with candidates as (
            select * from {monitoring_log} where {pairs}
        ),
        latest as (
            select model_name, model_version, arg_max(evaluation_id, (as_of_date, scored_at)) as evaluation_id
            from candidates group by model_name, model_version
        )
        select candidates.* from candidates join latest using (model_name, model_version, evaluation_id)
    """


def retrain_events(
    evaluations: pa.Table,
    actives: Mapping[str, ActiveVersion],
    config: MonitoringConfig,
    run: RunContext | None = None,
) -> pa.Table:
    """Reactive and proactive events for the latest evaluation of each active version."""
    run = run or RunContext.current()
    by_model: dict[str, list[dict[str, Any]]] = {}
    for row in evaluations.to_pylist():
        by_model.setdefault(row["model_name"], []).append(row)
    batches = []
    for name, active in actives.items():
        rows = by_model.get(name, [])
        if not rows:
            continue
        as_of = rows[0]["as_of_date"]
        evaluation_id = rows[0]["evaluation_id"]
        age = (as_of - active.card.trained_on).days
        events = []
        breached = sorted(
            (r for r in rows if r["is_breach"] and r["subject"] in REACTIVE_SIGNALS), key=lambda r: (r["signal"], r["subject"])
        )
        if breached:
            signals = [f"{r['signal']}:{r['subject']}" for r in breached]
            event_id = "rte-" + stable_id("reactive", name, active.card.model_version, evaluation_id)[:16]
            events.append(
                {
                    "event_id": event_id,
                    "trigger": "reactive",
                    "reason": "; ".join(f"{r['signal']} {r['method']} = {r['value']:.3f} > {r['threshold']:g}" for r in breached)
                    + f" (as of {as_of})",
                    "breached_signals": signals,
                    "evidence_log_ids": [r["log_id"] for r in breached],
                    "evaluation_id": evaluation_id,
                    "as_of_date": as_of,
                    "age_days": age,
                    "proactive_due_on": None,
                    "input_fingerprint": evaluation_id,
                }
            )
        if age >= config.proactive_retrain_days:
            due = active.card.trained_on + timedelta(days=config.proactive_retrain_days)
            event_id = "rte-" + stable_id("proactive", name, active.card.model_version, due.isoformat())[:16]
            events.append(
                {
                    "event_id": event_id,
                    "trigger": "proactive",
                    "reason": f"the data is {age} days past trained_on {active.card.trained_on} "
                    f"(proactive retraining every {config.proactive_retrain_days} days)",
                    "breached_signals": [],
                    "evidence_log_ids": [],
                    "evaluation_id": None,
                    "as_of_date": as_of,
                    "age_days": age,
                    "proactive_due_on": due,
                    "input_fingerprint": stable_id("proactive", due.isoformat()),
                }
            )
        for event in events:
            event["log_id"] = stable_id(event["event_id"], name, active.card.model_version, event["input_fingerprint"])
        if events:
            batches.append(
                finalize(
                    pa.Table.from_pylist(events, schema=_outputs_schema(RETRAIN_EVENT_LOG)), RETRAIN_EVENT_LOG, active.card, run
                )
            )
    return pa.concat_tables(batches) if batches else RETRAIN_EVENT_LOG.schema.empty_table()


def record_retrain_events(
    con: duckdb.DuckDBPyConnection,
    monitoring_log: duckdb.DuckDBPyRelation,
    actives: Mapping[str, ActiveVersion],
    config: MonitoringConfig,
    *,
    log_relation: str | None,
    run: RunContext | None = None,
) -> pa.Table:
    """The ``model_retrain_event_log`` step: this build's events not logged yet."""
    versions = {name: a.card.model_version for name, a in actives.items()}
    evaluations = query_relation(
        monitoring_log, "mrs_monitoring", latest_evaluation_sql("mrs_monitoring", versions)
    ).to_arrow_table()
    return keep_unlogged(con, retrain_events(evaluations, actives, config, run), log_relation, RETRAIN_EVENT_LOG.name)
