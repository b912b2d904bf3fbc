"""What a build costs and what it repeats, on the demo world: a second warehouse built from scratch
with every batch validated as SQL in the warehouse, then built again on unchanged inputs."""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb
import pytest
from conftest import Warehouse, copy_project

from mrs.quality.settings import SQL_ENGINE

RESULTS = "ml.expectation_results_log"
UNCHANGED_MARTS = ("product_insights", "minority_reports", "daily_sales_vs_baseline", "anomaly_reviews")
"""Marts a build on unchanged inputs leaves as they were (model_versions counts builds)."""
LEFT_BY_A_KILLED_BUILD = "main.baseline_log__dbt_tmp20250101120000000000"
"""A Python log's staging table as dbt-duckdb names it, planted between the two builds."""
NOT_A_STAGING_TABLE = "main.baseline_log__dbt_tmp_notes"
STAGING_TABLES = r"""
    select schema_name || '.' || table_name from duckdb_tables() where table_name like '%\_\_dbt\_tmp%' escape '\'
"""
MONITORING_VALUES = """
    select * exclude (run_id, scored_at) from ml.model_monitoring_log order by log_id
"""


@dataclass
class RebuiltWarehouse:
    warehouse: Warehouse
    first_build: str
    second_build: str
    second_output: str


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> RebuiltWarehouse:
    root = tmp_path_factory.mktemp("rebuilt")
    # every batch and mart validated as SQL: a test warehouse's default (conftest.SQL_VALIDATION_ENV)
    warehouse = Warehouse(project_dir=copy_project(root / "project"), path=root / "mrs.duckdb")
    builds, output = [], ""
    for build in range(2):
        if build:
            with duckdb.connect(str(warehouse.path)) as con:
                for table in (LEFT_BY_A_KILLED_BUILD, NOT_A_STAGING_TABLE):
                    con.execute(f"create table {table} as select 1 as x")
        output = warehouse.dbt("build").stdout
        run_results = json.loads((warehouse.path.parent / "target" / "run_results.json").read_text())
        builds.append(run_results["metadata"]["invocation_id"])
    return RebuiltWarehouse(warehouse, *builds, second_output=output)


@pytest.mark.integration
def test_every_committed_suite_passes_when_compiled_to_sql(rebuilt: RebuiltWarehouse) -> None:
    engines = rebuilt.warehouse.query(
        f"select distinct great_expectations_version from {RESULTS} where run_id = '{rebuilt.first_build}'"
    )
    assert len(engines) == 1 and engines[0][0].endswith(SQL_ENGINE)
    failed = rebuilt.warehouse.query(
        f"select suite_name, expectation, exception_message from {RESULTS} where run_id = '{rebuilt.first_build}' and not success"
    )
    assert failed == []


@pytest.mark.integration
def test_a_rebuild_on_unchanged_inputs_does_not_validate_unchanged_marts_again(rebuilt: RebuiltWarehouse) -> None:
    validated = {
        build: {
            suite for (suite,) in rebuilt.warehouse.query(f"select suite_name from ml.mart_validations where run_id = '{build}'")
        }
        for build in (rebuilt.first_build, rebuilt.second_build)
    }
    assert set(UNCHANGED_MARTS) <= validated[rebuilt.first_build]
    assert not set(UNCHANGED_MARTS) & validated[rebuilt.second_build]
    assert (
        rebuilt.warehouse.scalar(
            f"select count(*) from ml.mart_validations where run_id = '{rebuilt.first_build}' and batch_fingerprint is null"
        )
        == 0
    )


@pytest.mark.integration
def test_a_rebuild_on_unchanged_sales_does_not_score_the_baseline_again(rebuilt: RebuiltWarehouse) -> None:
    line = next(line for line in rebuilt.second_output.splitlines() if "mrs baseline_log:" in line)
    assert " 0 new" in line and "not scored: the sales and settings are those of a logged batch" in line
    fingerprints = rebuilt.warehouse.query("select distinct run_id, batch_fingerprint from ml.baseline_log")
    assert len(fingerprints) == 1 and fingerprints[0][0] == rebuilt.first_build and fingerprints[0][1]


@pytest.mark.integration
def test_a_strict_build_does_not_check_in_input_quarantine_the_feeds_its_staging_tests_checked(
    rebuilt: RebuiltWarehouse,
) -> None:
    run_results = json.loads((rebuilt.warehouse.path.parent / "target" / "run_results.json").read_text())
    compiled = {r["unique_id"]: r.get("compiled_code") or "" for r in run_results["results"]}
    assert compiled["test.mrs.stg_northmart__sales_keeps_the_input_rules"]
    quarantine = compiled["model.mrs.input_quarantine"]
    assert quarantine and rebuilt.warehouse.scalar("select count(*) from checked.input_quarantine") == 0
    for feed in ("stg_northmart__sales", "stg_coastco__sales", "stg_canonical__sales", "sales_northmart", "sales_coastco"):
        assert feed not in quarantine, feed


@pytest.mark.integration
def test_two_builds_from_scratch_give_bit_identical_monitoring(rebuilt: RebuiltWarehouse, built_warehouse: Warehouse) -> None:
    """Monitoring's aggregates are exact, so the value columns do not depend on the order a parallel
    scan adds the rows in: two warehouses built from scratch on the same inputs agree to the bit."""

    def bits(rows: list[tuple]) -> list[tuple]:
        return [tuple(v.hex() if isinstance(v, float) else v for v in row) for row in rows]

    ours = bits(rebuilt.warehouse.query(MONITORING_VALUES))
    theirs = bits(built_warehouse.query(MONITORING_VALUES))
    assert ours and ours == theirs


@pytest.mark.integration
def test_a_rebuild_leaves_no_staging_table_of_a_python_log(rebuilt: RebuiltWarehouse) -> None:
    # the second build appended to every Python log through a staging table: each was dropped, and
    # so was the one a killed build had left; a table that only resembles one was kept
    assert [table for (table,) in rebuilt.warehouse.query(STAGING_TABLES)] == [NOT_A_STAGING_TABLE]
