"""The package's stage functions are engine-neutral (issue 14): one runs under Spark unchanged.

The product-insights heuristic (``HeuristicModelRunner.predict_batch``, Arrow table in, Arrow table
out - what ``product_insights_log`` calls on DuckDB) scores the demo world's product features
(``int_product_insight_features``, built here by dbt on DuckDB) once directly and once inside a
local pyspark session through ``DataFrame.mapInArrow``, over several partitions, the way a Databricks
Python model would call it. The two results must be the same rows: every column equal, floats
exactly (the same numpy code on the same float64 values).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import duckdb
import pyarrow as pa
import pyspark
import pytest
from conftest import SPARK_PARTITIONS, Warehouse, copy_project
from pyspark.sql import SparkSession
from pyspark.sql.pandas.types import from_arrow_schema

from mrs.insights.heuristic import HeuristicModelRunner
from mrs.insights.schema import FEATURE_SCHEMA, INSIGHT_SCHEMA

pytestmark = pytest.mark.integration
PARTITIONS = SPARK_PARTITIONS


@pytest.fixture(scope="module")
def features(tmp_path_factory: pytest.TempPathFactory) -> pa.Table:
    root = tmp_path_factory.mktemp("spark_stage")
    warehouse = Warehouse(project_dir=copy_project(root / "project"), path=root / "mrs.duckdb")
    warehouse.dbt("build", "--select", "+int_product_insight_features", "--exclude", "test_type:data")
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        columns = ", ".join(FEATURE_SCHEMA.names)
        table = con.sql(
            f"select {columns} from intermediate.int_product_insight_features order by product_id, as_of_date"
        ).to_arrow_table()
    return pa.Table.from_arrays([table.column(f.name).cast(f.type) for f in FEATURE_SCHEMA], schema=FEATURE_SCHEMA)


def _rows(table: pa.Table) -> list[dict]:
    return sorted(table.to_pylist(), key=lambda r: (r["product_id"], r["as_of_date"]))


def test_heuristic_runner_under_spark_map_in_arrow_matches_the_direct_call(
    spark: SparkSession, features: pa.Table, request: pytest.FixtureRequest
) -> None:
    assert features.num_rows > 1000 and features.column("history_depth").null_count == 0
    direct = HeuristicModelRunner().predict_batch(features)

    # defined here, so that Spark's workers get it by value (they cannot import this test module)
    def score_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """What each Spark task runs: the package function on its partition's rows."""
        runner = HeuristicModelRunner()
        for batch in batches:
            if batch.num_rows:
                yield from runner.predict_batch(pa.Table.from_batches([batch])).to_batches()

    frame = spark.createDataFrame(features.to_pandas()).repartition(PARTITIONS)
    assert frame.rdd.getNumPartitions() == PARTITIONS
    scored = frame.mapInArrow(score_partition, from_arrow_schema(INSIGHT_SCHEMA))
    under_spark = pa.Table.from_pandas(scored.toPandas(), schema=INSIGHT_SCHEMA, preserve_index=False)

    assert under_spark.num_rows == direct.num_rows == features.num_rows
    expected, actual = _rows(direct), _rows(under_spark)
    differing: dict[str, int] = {}
    for e, a in zip(expected, actual, strict=True):
        for column, value in e.items():
            other = a[column]
            same = (value is None and other is None) or value == other
            if isinstance(value, float) and isinstance(other, float) and math.isnan(value) and math.isnan(other):
                same = True
            if not same:
                differing[column] = differing.get(column, 0) + 1
    report = (
        f"pyspark {pyspark.__version__} mapInArrow ({PARTITIONS} partitions)"
        " vs the direct call of HeuristicModelRunner.predict_batch"
        f" on the demo world's features: {direct.num_rows} rows, {len(INSIGHT_SCHEMA)} columns, cells differing: {differing or 0}"
    )
    print(report)
    request.node.user_properties.append(("engine_comparison", report))
    assert not differing
