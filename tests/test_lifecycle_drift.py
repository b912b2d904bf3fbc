"""Drift statistics from distribution summaries (mrs.lifecycle.drift), checked against scipy."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from mrs.lifecycle.drift import (
    DistributionSummary,
    DriftInputError,
    compare,
    drifted,
    long_features_sql,
    resolve_method,
    summarise,
)


def summaries(reference: dict[str, np.ndarray], current: dict[str, np.ndarray], entity=None):
    con = duckdb.connect()
    con.register("ref", pa.table({k: pa.array(v) for k, v in reference.items()}))
    con.register("cur", pa.table({k: pa.array(v) for k, v in current.items()}))
    features = {k: k for k in reference if k != "entity"}
    ref = summarise(con, long_features_sql("select * from ref", features, entity=entity))
    cur = summarise(
        con, long_features_sql("select * from cur", features, entity=entity), edges={f: s.bin_edges for f, s in ref.items()}
    )
    return ref, cur


@pytest.mark.parametrize("shift", [0.0, 0.3, 1.0])
def test_ks_and_wasserstein_match_scipy_on_continuous_samples(shift: float) -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(10, 2, 6000), rng.normal(10 + shift * 2, 2.2, 5000)
    ref, cur = summaries({"x": a}, {"x": b})
    drift = compare(ref["x"], cur["x"])
    assert drift.ks == pytest.approx(stats.ks_2samp(a, b).statistic, abs=0.015)
    assert drift.wasserstein_normed == pytest.approx(stats.wasserstein_distance(a, b) / a.std(), rel=0.05, abs=0.01)


def test_ks_pvalue_matches_scipy_for_small_samples() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(0, 1, 200), rng.normal(0.5, 1, 150)
    ref, cur = summaries({"x": a}, {"x": b})
    drift = compare(ref["x"], cur["x"])
    expected = stats.ks_2samp(a, b, method="asymp").pvalue
    assert drift.ks_pvalue == pytest.approx(expected, rel=0.5)
    assert drift.ks_pvalue < 0.05


def test_the_same_distribution_shows_no_drift_and_a_level_shift_does() -> None:
    rng = np.random.default_rng(3)
    base = rng.poisson(6, 8000).astype(float)
    same, shifted = rng.poisson(6, 4000).astype(float), rng.poisson(9, 4000).astype(float)
    ref, cur = summaries({"units": base}, {"units": same})
    steady = compare(ref["units"], cur["units"])
    assert steady.psi < 0.01 and steady.wasserstein_normed < 0.1
    ref, cur = summaries({"units": base}, {"units": shifted})
    moved = compare(ref["units"], cur["units"])
    assert moved.psi > 0.1 and moved.wasserstein_normed > 0.1


def test_psi_bins_discrete_data_on_the_references_distinct_deciles() -> None:
    ref, cur = summaries({"k": np.array([0.0] * 80 + [1.0] * 20)}, {"k": np.array([0.0] * 50 + [1.0] * 50)})
    edges = ref["k"].bin_edges
    assert edges[0] == 0.0 and edges[-1] == 1.0 and len(set(edges)) == len(edges)  # repeated deciles merged
    assert [c for c in ref["k"].bin_counts if c] == [80, 20] and [c for c in cur["k"].bin_counts if c] == [50, 50]
    # the share in the 0-bin went from 0.8 to 0.5, in the 1-bin from 0.2 to 0.5
    expected = (0.5 - 0.8) * np.log(0.5 / 0.8) + (0.5 - 0.2) * np.log(0.5 / 0.2)
    assert compare(ref["k"], cur["k"]).psi == pytest.approx(expected, rel=1e-3)


def test_entity_averaging_gives_one_value_per_entity() -> None:
    ref, _ = summaries(
        {"entity": np.repeat(np.arange(30), 10), "x": np.repeat(np.arange(30, dtype=float), 10)},
        {"entity": np.arange(5), "x": np.arange(5, dtype=float)},
        entity="entity",
    )
    assert ref["x"].count == 30


def test_summaries_round_trip_through_json_dicts() -> None:
    ref, _ = summaries({"x": np.arange(100, dtype=float)}, {"x": np.arange(10, dtype=float)})
    assert DistributionSummary.from_dict(ref["x"].to_dict()) == ref["x"]


def test_evidently_rule_uses_the_ks_test_for_small_references_and_wasserstein_for_large_ones() -> None:
    assert resolve_method("auto", 1000) == "ks_pvalue"
    assert resolve_method("auto", 1001) == "wasserstein_normed"
    assert resolve_method("psi", 10) == "psi"
    assert drifted("ks_pvalue", 0.01, 0.05) and not drifted("ks_pvalue", 0.2, 0.05)
    assert drifted("wasserstein_normed", 0.2, 0.1) and not drifted("wasserstein_normed", 0.05, 0.1)
    with pytest.raises(DriftInputError, match="unknown drift method"):
        resolve_method("chi2", 10)


def test_psi_refuses_a_current_sample_binned_on_other_edges() -> None:
    ref, _ = summaries({"x": np.arange(100, dtype=float)}, {"x": np.arange(10, dtype=float)})
    other, _ = summaries({"x": np.arange(50, dtype=float)}, {"x": np.arange(10, dtype=float)})
    with pytest.raises(DriftInputError, match="reference's edges"):
        compare(ref["x"], other["x"])


def test_summaries_are_identical_to_the_bit_whatever_the_row_order() -> None:
    """Exact sums: a parallel scan of the same values in another order gives the same mean, spread
    and quantiles to the bit (a float avg() or stddev_pop() does not: they differ in the last bits)."""
    rng = np.random.default_rng(1)
    values = rng.lognormal(0, 2, 1_000_000)
    con = duckdb.connect()
    con.execute("set threads = 4")
    con.register("ordered", pa.table({"x": values, "product": np.arange(values.size) % 997}))
    con.register("shuffled", pa.table({"x": values, "product": np.arange(values.size) % 997}).take(rng.permutation(values.size)))

    def bits(relation: str, entity: str | None) -> tuple:
        s = summarise(con, long_features_sql(f"select * from {relation}", {"x": "x"}, entity=entity))["x"]
        return (s.count, s.mean.hex(), s.std.hex(), tuple(q.hex() for q in s.quantiles), s.bin_counts)

    for entity in (None, "product"):
        assert bits("ordered", entity) == bits("shuffled", entity)
