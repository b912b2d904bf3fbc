"""Great Expectations inside `dbt build`: every log and mart is validated and its results logged;
a corrupted log batch fails the build by suite and expectation, never reaches a mart, and is recorded."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT_ROOT, Warehouse
from test_expectations_suites import NOT_SUITE_VALIDATED, log_models, mart_models

from mrs.quality.settings import data_docs_index

RESULTS = "ml.expectation_results_log"
#: marts whose content a build on unchanged inputs leaves as it was (model_versions counts builds)
MARTS = ("marts.product_insights", "marts.minority_reports", "marts.daily_sales_vs_baseline", "marts.anomaly_reviews")
BAD_RUN = "corrupted-writer-run"
SELLOUT = "expect_column_values_to_be_between(sellout_risk)"
NULL_VERSION = "expect_column_values_to_not_be_null(model_version)"
LOW_ABOVE_POINT = "expect_column_pair_values_a_to_be_greater_than_b(price_forecast_next_week, price_forecast_next_week_low)"


LOG_STEPS = ("ml.insights_log_validations", "ml.minority_reports_log_validations", "ml.lifecycle_log_validations")
VALIDATED_BATCHES = " union all ".join(f"select * from {step}" for step in LOG_STEPS)


def _suites() -> set[str]:
    models = PROJECT_ROOT / "models"
    return (set(log_models(models)) - set(NOT_SUITE_VALIDATED)) | set(mart_models(models))


def _snapshot(warehouse: Warehouse, relation: str) -> list[tuple]:
    return warehouse.query(f"select * from {relation} order by all")


@pytest.mark.integration
def test_the_build_records_successful_results_for_every_log_and_mart(built_warehouse: Warehouse) -> None:
    [(build,)] = built_warehouse.query("select distinct run_id from ml.mart_validations")
    outcome = dict(
        built_warehouse.query(f"select suite_name, bool_and(success) from {RESULTS} where run_id = '{build}' group by 1")
    )
    assert set(outcome) == _suites()
    assert all(outcome.values()), {s for s, ok in outcome.items() if not ok}
    pages = {p for (p,) in built_warehouse.query(f"select distinct data_docs_page from {RESULTS} where run_id = '{build}'")}
    assert pages and all(Path(p).exists() for p in pages)
    assert data_docs_index(built_warehouse.project_dir / "expectations").exists()


@pytest.mark.integration
def test_each_log_batch_is_validated_once(built_warehouse: Warehouse) -> None:
    rows, batches = built_warehouse.query(
        f"select count(*), count(distinct (suite_name, batch_run_id)) from ({VALIDATED_BATCHES})"
    )[0]
    assert rows == batches > 0
    appended = built_warehouse.scalar("select count(*) from ml.product_insights_log")
    validated = built_warehouse.scalar(
        "select sum(batch_row_count) from ml.insights_log_validations where suite_name = 'product_insights_log'"
    )
    assert validated == appended


def _corrupt_the_insights_log(path: Path) -> None:
    """As a buggy writer would: three copies of rows the mart shows, appended under their own run_id,
    scored later (so they would win in the mart), with a sellout risk of 1.7, a null model_version
    and a low bound above its point forecast."""
    with duckdb.connect(str(path)) as con:
        con.execute(
            f"""
            insert into ml.product_insights_log
            select * exclude (n) replace (
                md5(log_id || '{BAD_RUN}') as log_id,
                '{BAD_RUN}' as run_id,
                scored_at + interval 1 hour as scored_at,
                case when n = 1 then 1.7 else sellout_risk end as sellout_risk,
                case when n = 2 then null else model_version end as model_version,
                case when n = 3 then price_forecast_next_week + 1 else price_forecast_next_week_low end
                    as price_forecast_next_week_low
            )
            from (
                select *, row_number() over (order by product_id) as n
                from ml.product_insights_log
                where log_id in (select log_id from marts.product_insights)
            )
            where n <= 3
            """
        )


@pytest.mark.integration
@pytest.mark.prebuilt
@pytest.mark.great_expectations
def test_a_corrupted_batch_fails_the_build_by_name_keeps_the_marts_and_is_recorded(project_copy: Warehouse) -> None:
    before = {mart: _snapshot(project_copy, mart) for mart in MARTS}
    _corrupt_the_insights_log(project_copy.path)

    failed = project_copy.dbt("build", check=False)

    assert failed.returncode != 0
    [line] = [out for out in failed.stdout.splitlines() if "Great Expectations: suite 'product_insights_log' failed" in out]
    assert BAD_RUN in line and SELLOUT in line and NULL_VERSION in line and LOW_ABOVE_POINT in line
    assert "SKIP relation marts.product_insights" in failed.stdout
    assert {mart: _snapshot(project_copy, mart) for mart in MARTS} == before
    recorded = {
        e for (e,) in project_copy.query(f"select expectation from {RESULTS} where batch_run_id = '{BAD_RUN}' and not success")
    }
    assert {SELLOUT, NULL_VERSION, LOW_ABOVE_POINT} <= recorded
    [(build,)] = project_copy.query(f"select distinct run_id from {RESULTS} where batch_run_id = '{BAD_RUN}'")
    validated_insight_batches = project_copy.query(
        f"select batch_run_id from ml.insights_log_validations where run_id = '{build}'"
    )
    assert validated_insight_batches == [(BAD_RUN,)], "the build validated what was new, not the history"

    project_copy.dbt("build")  # the next build passes: the failed batch stays in the log, never in a mart
    assert project_copy.scalar(f"select count(*) from ml.product_insights_log where run_id = '{BAD_RUN}'") == 3
    assert project_copy.scalar(f"select count(*) from marts.product_insights where run_id = '{BAD_RUN}'") == 0
    assert _snapshot(project_copy, "marts.product_insights") == before["marts.product_insights"]
