"""A drift summary is the same on every engine (issue 14): its SQL is the drift_rules.sql macros.

One sample - a continuous feature with null, NaN and infinite values (which every spelling must
ignore), a discrete one, one that is constant, one whose name needs quoting, with and without
averaging per entity - is summarised by :func:`mrs.lifecycle.drift.summarise` on DuckDB and by
:func:`mrs.lifecycle.drift.summarise_with` on PostgreSQL and in a local pyspark session, each with
its own spelling. The counts and bin counts must be equal, the mean and standard deviation within
1e-9 and the quantiles within 1e-12 (relative): the engines interpolate a quantile and cast a
double to a decimal each their own way, in the last bits. The current sample is binned on DuckDB's
reference edges on every engine, so its bin counts compare value by value.

Postgres is conftest's `postgres` fixture (the one `.ci/run` started, else one started here; it
fails, never skips, when none can start); the sample goes into a fresh database, dropped afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from conftest import fresh_postgres_database, postgres_connect
from psycopg2.extras import execute_values
from pyspark.sql import SparkSession

from mrs.lifecycle.drift import DistributionSummary, long_features_sql, summarise, summarise_with

pytestmark = pytest.mark.integration

ROWS = 6000
FEATURES = {"x": "x", "units": "units", "it's doubled": "x * 2", "constant": "1.5"}
"""Feature name -> SQL expression over the sample's columns."""
REFERENCE, CURRENT = "part = 0", "part = 1"

Fetch = Callable[[str], Sequence[Sequence[Any]]]


def _sample() -> pa.Table:
    rng = np.random.default_rng(14)
    x = rng.lognormal(1, 1.5, ROWS)
    x[::53], x[::59], x[::61] = np.nan, np.inf, -np.inf
    return pa.table(
        {
            "part": (np.arange(ROWS) % 3 == 0).astype(np.int32),
            "entity": (np.arange(ROWS) % 97).astype(np.int32),
            "x": pa.array(x, mask=rng.random(ROWS) < 0.04),
            "units": rng.poisson(4, ROWS).astype(float),
        }
    )


SAMPLE = _sample()


Summaries = dict[str | None, tuple[dict[str, DistributionSummary], dict[str, DistributionSummary]]]
"""Per entity expression (None: no averaging), the reference and the current summaries."""


def _summaries(
    run: Callable[[str, dict[str, tuple[float, ...]] | None], dict[str, DistributionSummary]],
    engine: str,
    reference_edges: Summaries | None = None,
) -> Summaries:
    """The current sample binned on the edges of ``reference_edges``' references, else on its own reference's."""
    out = {}
    for entity in (None, "entity"):
        ref = run(long_features_sql("select * from sample", FEATURES, REFERENCE, entity, engine), None)
        binned_on = reference_edges[entity][0] if reference_edges else ref
        edges = {f: s.bin_edges for f, s in binned_on.items()}
        out[entity] = (ref, run(long_features_sql("select * from sample", FEATURES, CURRENT, entity, engine), edges))
    return out


@pytest.fixture(scope="module")
def duck() -> Summaries:
    con = duckdb.connect()
    con.register("sample", SAMPLE)
    return _summaries(lambda sql, edges: summarise(con, sql, edges), "duckdb")


def test_duckdb_ignores_null_nan_and_infinite_values(duck: Summaries) -> None:
    column = SAMPLE.column("x")
    assert column.null_count > 0 and any(math.isnan(v) for v in column.drop_null().to_pylist())
    x, part = column.to_numpy(zero_copy_only=False), SAMPLE.column("part").to_numpy()
    assert np.isinf(x).sum() > 0
    finite = np.isfinite(x)  # a null is NaN here
    ref, cur = duck[None]
    assert ref["x"].count == int((finite & (part == 0)).sum()) and cur["x"].count == int((finite & (part == 1)).sum())
    assert ref["x"].mean == pytest.approx(float(x[finite & (part == 0)].mean()), rel=1e-12)
    assert ref["x"].std == pytest.approx(float(x[finite & (part == 0)].std()), rel=1e-12)
    assert ref["constant"].std == 0 and ref["constant"].bin_counts == (0, ref["constant"].count)


def _assert_same(duck: dict[str, DistributionSummary], other: dict[str, DistributionSummary]) -> None:
    assert sorted(other) == sorted(duck)
    for feature, d in duck.items():
        o = other[feature]
        assert o.count == d.count, feature
        assert o.mean == pytest.approx(d.mean, rel=1e-9, abs=1e-9), feature
        assert o.std == pytest.approx(d.std, rel=1e-9, abs=1e-9), feature
        assert o.quantiles == pytest.approx(d.quantiles, rel=1e-12, abs=1e-12), feature
        assert o.bin_edges == pytest.approx(d.bin_edges, rel=1e-12, abs=1e-12), feature
        assert o.bin_counts == d.bin_counts, feature


def _assert_engine_matches_duckdb(duck: Summaries, fetch: Fetch, engine: str) -> None:
    summaries = _summaries(lambda sql, edges: summarise_with(fetch, sql, edges, engine), engine, duck)
    for entity, (ref, cur) in summaries.items():
        _assert_same(duck[entity][0], ref)
        _assert_same(duck[entity][1], cur)


@pytest.fixture(scope="module")
def postgres_cursor(postgres: dict[str, str]) -> Iterator[Any]:
    """A cursor on a fresh database holding the sample (NaN and infinities as Postgres's own)."""
    with fresh_postgres_database(postgres) as env:
        con = postgres_connect(env)
        try:
            with con.cursor() as cur:
                cur.execute("create table sample (part integer, entity integer, x double precision, units double precision)")
                execute_values(cur, "insert into sample values %s", [tuple(row.values()) for row in SAMPLE.to_pylist()])
                yield cur
        finally:
            con.close()


def test_postgres_summaries_match_duckdb(duck: Summaries, postgres_cursor: Any) -> None:
    postgres_cursor.execute("select count(*) filter (where x = 'NaN'), count(*) filter (where x = 'Infinity') from sample")
    assert all(n > 0 for n in postgres_cursor.fetchone())  # the values to ignore made it into the table

    def fetch(sql: str) -> list[tuple]:
        postgres_cursor.execute(sql)
        return postgres_cursor.fetchall()

    _assert_engine_matches_duckdb(duck, fetch, "postgres")


def test_spark_summaries_match_duckdb(duck: Summaries, spark: SparkSession) -> None:
    spark.createDataFrame(SAMPLE).createOrReplaceTempView("sample")
    nan = spark.sql("select count_if(isnan(x)), count_if(x is null) from sample").first()
    assert nan is not None and all(n > 0 for n in nan)  # NaN and null stay apart
    _assert_engine_matches_duckdb(duck, lambda sql: [tuple(row) for row in spark.sql(sql).collect()], "spark")
