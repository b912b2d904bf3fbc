"""The third engine (issue 14): the demo world built on Spark gives what DuckDB gives.

The selection of tests/test_postgres_engine.py (`dbt build --exclude "path:models/ml/**/*.py+"`:
seeds, staging, checked, intermediate features, the runners' input view and the SQL marts, with
every data and unit test on the way) is built on DuckDB and through dbt-spark's `session` method
(the `spark` output of profiles.yml: a local Spark inside the dbt process, its warehouse and Hive
metastore in a temporary MRS_SPARK_WAREHOUSE_DIR). Then a local pyspark session on that metastore
reads every relation, and the two warehouses must hold the same rows with the Postgres test's
tolerances (tests/engine_comparison.py). The figures are printed in the terminal summary.

dbt-spark (with its `session` extra) is pinned in the dev dependencies; a machine without it fails
this module, as a Postgres that cannot start fails the Postgres test: it never skips.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Warehouse, copy_project
from engine_comparison import build_selection, built_relations, compare_with_duckdb
from pyspark.sql import SparkSession

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, Warehouse, Path]:
    """The selection built on DuckDB and on Spark at once (each in its own copy of the project; a
    Spark build waits on its metastore and job scheduling more than on the cores), and Spark's
    warehouse directory."""
    root = tmp_path_factory.mktemp("spark_engine")
    duck = Warehouse(project_dir=copy_project(root / "duckdb" / "project"), path=root / "duckdb" / "mrs.duckdb")
    spark = Warehouse(project_dir=copy_project(root / "spark" / "project"), path=root / "spark" / "unused.duckdb")
    warehouse_dir = root / "spark" / "warehouse"
    spark_env = {"MRS_SPARK_WAREHOUSE_DIR": str(warehouse_dir), "PYSPARK_PYTHON": sys.executable}
    build_selection(duck, spark, "spark", spark_env)
    return duck, spark, warehouse_dir


@pytest.fixture(scope="module")
def spark_reader(builds: tuple[Warehouse, Warehouse, Path]) -> Iterator[SparkSession]:
    """A local pyspark session on the build's Hive metastore and warehouse (profiles.yml's spark output)."""
    warehouse_dir = builds[2]
    metastore = f"jdbc:derby:;databaseName={warehouse_dir}/metastore_db;create=true"
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("mrs-spark-engine")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", f"{warehouse_dir}/warehouse")
        .config("spark.hadoop.javax.jdo.option.ConnectionURL", metastore)
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={warehouse_dir}")
        .enableHiveSupport()
        .getOrCreate()
    )
    # A JVM that an earlier session of this process started ignores extraJavaOptions; Derby reads
    # its home (where it writes derby.log) when it boots on the first metastore call, so setting
    # the property here keeps derby.log out of the working directory either way.
    jvm = session.sparkContext._jvm
    assert jvm is not None
    jvm.java.lang.System.setProperty("derby.system.home", str(warehouse_dir))
    try:
        yield session
    finally:
        session.stop()


def test_spark_builds_what_duckdb_builds(
    builds: tuple[Warehouse, Warehouse, Path], spark_reader: SparkSession, request: pytest.FixtureRequest
) -> None:
    duck, spark, _ = builds
    duck_relations, spark_relations = built_relations(duck), built_relations(spark)
    assert duck_relations == spark_relations
    assert {"int_sales_features", "unified_sales_data", "int_price_windows", "stg_northmart__sales", "sales_coastco"} <= set(
        duck_relations
    )

    def read_rows(schema: str, table: str, names: list[str]) -> list[tuple]:
        # the Hive metastore keeps column names in lower case (coastco's STORE_NBR)
        columns = ", ".join(f"`{c.lower()}`" for c in names)
        rows = spark_reader.sql(f"select {columns} from {schema}.{table}").toArrow().to_pylist()
        return [tuple(row.values()) for row in rows]

    report, problems = compare_with_duckdb(duck, duck_relations, "Spark", read_rows)
    print(report)
    request.node.user_properties.append(("engine_comparison", report))
    assert not problems, "\n".join(problems[:40])
