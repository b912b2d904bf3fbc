"""Distribution drift between a reference and a current sample, from compact summaries.

A :class:`DistributionSummary` (count, mean, standard deviation, 101 quantiles and the counts in
the reference's decile bins) is computed by the database, so only a few numbers per feature reach
Python, and it is small enough to store in a model's manifest as the training reference. Its SQL
lives in the dbt macros of ``src/mrs/sql/drift_rules.sql``, spelled per engine (DuckDB, Postgres,
Spark), which this module renders through :mod:`mrs.sql_rules`: :func:`summarise` runs the DuckDB
spelling on a DuckDB connection, :func:`summarise_with` any engine's. Its count, mean and standard
deviation are summed exactly (:func:`exact_sum_sql`), so a summary, and every statistic drawn from
it, is the same to the bit whatever the order a parallel scan adds the values in. From two
summaries:

* **PSI** (population stability index) over the reference's decile bins, empty bins smoothed to
  :data:`PSI_EPSILON`: ``sum((c - r) * ln(c / r))``;
* **KS**: the largest gap between the two empirical CDFs, read off the quantiles (exact to about
  one quantile step, 0.01), and its asymptotic two-sample p-value;
* **normalised Wasserstein** (earth mover's) distance: the area between the two quantile
  functions, divided by the reference's standard deviation - Evidently's default drift method for
  numerical columns with more than 1,000 values, with its default threshold of 0.1
  (:data:`EVIDENTLY_DEFAULT_THRESHOLD`, the anchor of ``vars.model_monitoring``).

Method ``auto`` is Evidently's default rule: the KS test (drift when p < 0.05) for a reference of at
most :data:`EVIDENTLY_SMALL_SAMPLE_ROWS` values, the normalised Wasserstein distance (drift when
above 0.1) for larger ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mrs import sql_rules
from mrs.sql_rules import ENGINE

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

QUANTILE_PROBS: tuple[float, ...] = tuple(round(i / 100, 2) for i in range(101))
"""The quantiles a summary keeps: 0, 0.01, …, 1."""

PSI_BIN_PROBS: tuple[float, ...] = tuple(round(i / 10, 1) for i in range(1, 10))
"""PSI bins are the reference's deciles (repeated edges of discrete data merged)."""

PSI_EPSILON = 1e-4
"""Share given to an empty bin so the PSI stays finite (as Evidently does)."""

MIN_STD = 1e-3
"""Floor of the reference standard deviation that normalises the Wasserstein distance."""

EVIDENTLY_DEFAULT_THRESHOLD = 0.1
"""Evidently's default drift threshold for the normalised Wasserstein distance and the PSI."""

EVIDENTLY_DEFAULT_PVALUE = 0.05
"""Evidently's default p-value threshold of the KS test for small samples."""

EVIDENTLY_SMALL_SAMPLE_ROWS = 1000
"""Evidently switches from the KS test to the Wasserstein distance above this many reference values."""

METHODS: tuple[str, ...] = ("wasserstein_normed", "psi", "ks", "ks_pvalue")
"""Statistics a drift decision can use; ``ks_pvalue`` drifts when *below* its threshold."""

AUTO = "auto"


class DriftInputError(ValueError):
    """A summary or a sample cannot be compared."""


@dataclass(frozen=True)
class DistributionSummary:
    """What drift monitoring keeps of one feature's sample."""

    count: int
    mean: float
    std: float
    quantiles: tuple[float, ...]
    bin_edges: tuple[float, ...]
    bin_counts: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["quantiles"] = list(self.quantiles)
        data["bin_edges"] = list(self.bin_edges)
        data["bin_counts"] = list(self.bin_counts)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DistributionSummary:
        return cls(
            count=int(data["count"]),
            mean=float(data["mean"]),
            std=float(data["std"]),
            quantiles=tuple(float(q) for q in data["quantiles"]),
            bin_edges=tuple(float(e) for e in data["bin_edges"]),
            bin_counts=tuple(int(c) for c in data["bin_counts"]),
        )


@dataclass(frozen=True)
class Drift:
    """The three drift statistics of a current summary against a reference one."""

    psi: float
    ks: float
    ks_pvalue: float
    wasserstein_normed: float

    def value(self, method: str) -> float:
        if method not in METHODS:
            raise DriftInputError(f"unknown drift method {method!r} (methods: {METHODS})")
        return float(getattr(self, method))


def decile_edges(quantiles: tuple[float, ...]) -> tuple[float, ...]:
    """Interior PSI bin edges: the deciles among the quantiles, repeated values merged."""
    by_prob = dict(zip(QUANTILE_PROBS, quantiles, strict=True))
    return tuple(sorted({float(by_prob[p]) for p in PSI_BIN_PROBS}))


def _rules() -> Any:
    """The macros of :data:`mrs.sql_rules.SQL_FOLDER` (``drift_rules.sql`` spells a summary's SQL, per engine)."""
    return sql_rules.macros()


def exact_sum_sql(expression: str, engine: str = ENGINE) -> str:
    """SQL summing a double expression exactly: as a 128-bit decimal, so the result does not
    depend on the order a parallel aggregation adds the values in (float sums do, in their last
    bits); the ``exact_double_sum`` macro. The SQL models' ``exact_sum`` macro does the same for
    money columns."""
    return str(_rules().exact_double_sum(expression, engine)).strip()


def exact_mean_sql(expression: str, engine: str = ENGINE) -> str:
    """The mean of :func:`exact_sum_sql` (null without values); the ``exact_double_mean`` macro."""
    return str(_rules().exact_double_mean(expression, engine)).strip()


def distribution_stats_sql(long_sql: str, engine: str = ENGINE) -> str:
    """SQL for ``(feature, count, mean, std, quantiles)`` per feature of a long relation, over its
    finite values, the quantiles at :data:`QUANTILE_PROBS`; the ``distribution_stats`` macro."""
    return str(_rules().distribution_stats(long_sql, [float(p) for p in QUANTILE_PROBS], engine)).strip()


def distribution_bin_counts_sql(long_sql: str, edges: Mapping[str, tuple[float, ...]], engine: str = ENGINE) -> str:
    """SQL for ``(feature, bin, count)`` of a long relation's finite values on each feature's
    ``edges`` (a value's bin: how many edges are at or below it); the ``distribution_bin_counts``
    macro."""
    if not edges:
        raise DriftInputError("no features to bin")
    chosen = {str(f): [float(e) for e in feature_edges] for f, feature_edges in edges.items()}
    return str(_rules().distribution_bin_counts(long_sql, chosen, engine)).strip()


def summarise(
    con: duckdb.DuckDBPyConnection,
    long_sql: str,
    edges: Mapping[str, tuple[float, ...]] | None = None,
) -> dict[str, DistributionSummary]:
    """Summaries per feature of a long relation ``(feature varchar, value double)`` given as SQL.

    Without ``edges`` each feature is binned on its own deciles (a reference); with ``edges`` (the
    reference's), on those (a current sample). Null, NaN and infinite values are ignored; a feature
    without a value gets no summary. Runs on DuckDB; :func:`summarise_with` on any engine.
    """
    return summarise_with(lambda sql: con.sql(sql).fetchall(), long_sql, edges)


def summarise_with(
    fetch: Callable[[str], Sequence[Sequence[Any]]],
    long_sql: str,
    edges: Mapping[str, tuple[float, ...]] | None = None,
    engine: str = ENGINE,
) -> dict[str, DistributionSummary]:
    """:func:`summarise` with the SQL spelled for ``engine`` and run by ``fetch`` (SQL in, rows out)."""
    stats = fetch(distribution_stats_sql(long_sql, engine))
    if not stats:
        return {}
    own_edges = {f: decile_edges(tuple(q)) for f, _, _, _, q in stats}
    chosen = {f: tuple(edges.get(f, own_edges[f])) if edges is not None else own_edges[f] for f in own_edges}
    counts = fetch(distribution_bin_counts_sql(long_sql, chosen, engine))
    bins: dict[str, list[int]] = {f: [0] * (len(e) + 1) for f, e in chosen.items()}
    for feature, b, n in counts:
        bins[feature][int(b)] = int(n)
    return {
        f: DistributionSummary(int(n), float(mean), float(std), tuple(float(x) for x in q), chosen[f], tuple(bins[f]))
        for f, n, mean, std, q in stats
    }


def long_features_sql(
    relation_sql: str, features: Mapping[str, str], where: str = "true", entity: str | None = None, engine: str = ENGINE
) -> str:
    """SQL turning a wide relation into ``(feature, value)`` rows, one per feature expression.

    With ``entity`` (an expression, e.g. ``product_id``) the values are first averaged per entity:
    one value per entity and feature, for data whose rows of one entity are not independent. The
    ``long_features`` macro.
    """
    if not features:
        raise DriftInputError("no features to summarise")
    return str(_rules().long_features(relation_sql, dict(features), where, entity, engine)).strip()


def psi(reference: DistributionSummary, current: DistributionSummary) -> float:
    if reference.bin_edges != current.bin_edges:
        raise DriftInputError("PSI needs the current sample binned on the reference's edges")
    ref = np.asarray(reference.bin_counts, float)
    cur = np.asarray(current.bin_counts, float)
    if ref.sum() == 0 or cur.sum() == 0:
        raise DriftInputError("PSI needs a non-empty reference and current sample")
    r = np.maximum(ref / ref.sum(), PSI_EPSILON)
    c = np.maximum(cur / cur.sum(), PSI_EPSILON)
    return float(np.sum((c - r) * np.log(c / r)))


def _cdf(quantiles: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Share of the sample at or below x, read off its quantile function (a step function)."""
    probs = np.asarray(QUANTILE_PROBS)
    idx = np.searchsorted(quantiles, x, side="right")
    return np.where(idx == 0, 0.0, probs[np.maximum(idx - 1, 0)])


def ks_statistic(reference: DistributionSummary, current: DistributionSummary) -> float:
    ref, cur = np.asarray(reference.quantiles), np.asarray(current.quantiles)
    points = np.union1d(ref, cur)
    return float(np.max(np.abs(_cdf(ref, points) - _cdf(cur, points))))


def ks_pvalue(statistic: float, n_reference: int, n_current: int) -> float:
    """Asymptotic two-sample KS p-value: the Kolmogorov distribution at D * sqrt(n m / (n + m))."""
    from scipy.special import kolmogorov

    if n_reference < 1 or n_current < 1:
        raise DriftInputError("the KS test needs two non-empty samples")
    return float(kolmogorov(statistic * math.sqrt(n_reference * n_current / (n_reference + n_current))))


def resolve_method(method: str, reference_rows: int) -> str:
    """The statistic that decides: ``auto`` is Evidently's rule (KS test for small references)."""
    if method == AUTO:
        return "ks_pvalue" if reference_rows <= EVIDENTLY_SMALL_SAMPLE_ROWS else "wasserstein_normed"
    if method not in METHODS:
        raise DriftInputError(f"unknown drift method {method!r} (methods: {(AUTO,) + METHODS})")
    return method


def drifted(method: str, value: float, threshold: float) -> bool:
    """A p-value drifts below its threshold, a distance above it."""
    return value < threshold if method == "ks_pvalue" else value > threshold


def wasserstein_normed(reference: DistributionSummary, current: DistributionSummary) -> float:
    gap = np.abs(np.asarray(reference.quantiles) - np.asarray(current.quantiles))
    area = float(np.sum((gap[1:] + gap[:-1]) / 2) / (len(gap) - 1))
    return area / max(reference.std, MIN_STD)


def compare(reference: DistributionSummary, current: DistributionSummary) -> Drift:
    """PSI, KS and normalised Wasserstein of ``current`` against ``reference``."""
    ks = ks_statistic(reference, current)
    result = Drift(
        psi(reference, current), ks, ks_pvalue(ks, reference.count, current.count), wasserstein_normed(reference, current)
    )
    if not all(math.isfinite(v) for v in (result.psi, result.ks, result.ks_pvalue, result.wasserstein_normed)):
        raise DriftInputError(f"drift statistics are not finite: {result}")
    return result
