"""The validation machinery outside dbt: a log batch in DuckDB, the committed suite, a private copy
of the Great Expectations project. A corrupted batch fails by suite and expectation and is recorded;
nothing is validated twice."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from conftest import PROJECT_ROOT
from mrs.insights.schema import PRODUCT_INSIGHTS_LOG
from mrs.logs import RunContext, finalize
from mrs.quality.parameters import as_parameter_datetime, expectation_parameters
from mrs.quality.results import (
    Batch,
    describe_failure,
    exception_message,
    expectation_columns,
    expectation_label,
)
from mrs.quality.schemas import RESULTS_LOG_SCHEMA, VALIDATIONS_SCHEMA
from mrs.quality.suites import load_suite
from mrs.quality.validate import append_results, new_batches, validate_log_batches
from mrs.versions import builtin_card

SUITE = "product_insights_log"
PARAMETERS = {
    **expectation_parameters(),
    "price_history_start": as_parameter_datetime(date(2025, 5, 1)),
    "price_history_end": as_parameter_datetime(date(2025, 8, 12)),
}
SELLOUT = "expect_column_values_to_be_between(sellout_risk)"
NULL_VERSION = "expect_column_values_to_not_be_null(model_version)"
LOW_ABOVE_POINT = "expect_column_pair_values_a_to_be_greater_than_b(price_forecast_next_week, price_forecast_next_week_low)"


@pytest.fixture(scope="module")
def gx_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the committed GE project (its Data Docs are written there)."""
    dest = tmp_path_factory.mktemp("gx") / "expectations"
    shutil.copytree(PROJECT_ROOT / "expectations", dest, ignore=shutil.ignore_patterns("uncommitted"))
    return dest


def _default(field: pa.Field, i: int):
    if pa.types.is_string(field.type):
        return f"{field.name}-{i}"
    if pa.types.is_floating(field.type):
        return 1.0
    if pa.types.is_integer(field.type):
        return 1
    if pa.types.is_date(field.type):
        return date(2025, 6, 1)
    if pa.types.is_boolean(field.type):
        return False
    raise NotImplementedError(field)


def insight_batch(run_id: str, rows: int = 4, **overrides: list) -> pa.Table:
    """A product_insights_log batch that meets its suite (every value is plausible), then ``overrides``."""
    own = {f.name: [_default(f, i) for i in range(rows)] for f in PRODUCT_INSIGHTS_LOG.columns}
    own.update(baseline_source=["recent_price"] * rows, msrp_fallback_reason=[None] * rows,
               price_source=["recent_prices"] * rows, price_age_days=[0] * rows, bound_level=[0.8] * rows)
    ids = [hashlib.md5(f"{run_id}-{i}".encode()).hexdigest() for i in range(rows)]
    table = pa.table({**own, "log_id": ids, "input_fingerprint": ids})
    batch = finalize(table, PRODUCT_INSIGHTS_LOG, builtin_card("product_insights", "0"), RunContext(run_id))
    for column, values in overrides.items():
        index = batch.schema.get_field_index(column)
        field = batch.schema.field(column)
        batch = batch.set_column(index, field.with_nullable(True), pa.array(values, field.type))
    return batch


def corrupted_batch(run_id: str) -> pa.Table:
    """What a buggy writer appends: a sellout risk of 1.7, a null model_version, a low bound above its forecast."""
    return insight_batch(
        run_id,
        sellout_risk=[1.7, 0.2, 0.2, 0.2],
        model_version=["0", None, "0", "0"],
        price_forecast_next_week_low=[1.0, 1.0, 1.5, 1.0],
    )


def warehouse(*batches: pa.Table) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    relaxed = pa.schema([f.with_nullable(True) for f in PRODUCT_INSIGHTS_LOG.schema])  # as a table in the warehouse
    log = pa.concat_tables([b.cast(relaxed) for b in batches])
    con.register("log_batches", log)
    con.execute("create table product_insights_log as select * from log_batches")
    con.register("results_schema", RESULTS_LOG_SCHEMA.empty_table())
    con.execute("create table expectation_results_log as select * from results_schema")
    return con


def validate(con: duckdb.DuckDBPyConnection, gx_project: Path, validations: str | None, run_id: str) -> pa.Table:
    return validate_log_batches(
        con,
        logs={SUITE: con.table("product_insights_log")},
        validations=validations,
        results_log="expectation_results_log",
        parameters=PARAMETERS,
        project_dir=gx_project,
        run=RunContext(run_id),
    )


def validated_batches(con: duckdb.DuckDBPyConnection, *batch_run_ids: str) -> None:
    """A validation step's table (step_validations) that has validated these batches of the log."""
    con.register("validations_schema", VALIDATIONS_SCHEMA.empty_table())
    con.execute("create table step_validations as select * from validations_schema")
    for batch_run_id in batch_run_ids:
        con.execute("insert into step_validations (batch_run_id, suite_name) values (?, ?)", [batch_run_id, SUITE])


def test_a_corrupted_batch_fails_by_suite_and_expectation_and_a_good_batch_passes(gx_project: Path) -> None:
    con = warehouse(insight_batch("good-batch"), corrupted_batch("bad-batch"))
    summary = validate(con, gx_project, None, "build-1")

    outcome = {r["batch_run_id"]: r for r in summary.to_pylist()}
    assert set(outcome) == {"good-batch", "bad-batch"}
    assert outcome["good-batch"]["success"] and outcome["good-batch"]["failures"] is None
    bad = outcome["bad-batch"]
    assert not bad["success"] and bad["suite_name"] == SUITE and bad["run_id"] == "build-1"
    for label in (SELLOUT, NULL_VERSION, LOW_ABOVE_POINT):
        assert label in bad["failures"]

    failed = dict(
        con.sql(
            "select expectation, unexpected_examples from expectation_results_log "
            "where batch_run_id = 'bad-batch' and not success"
        ).fetchall()
    )
    assert {SELLOUT, NULL_VERSION, LOW_ABOVE_POINT} <= set(failed)
    assert json.loads(failed[SELLOUT]) == [1.7]
    evaluated = con.sql(
        "select count(*) from expectation_results_log where batch_run_id = 'good-batch' and success"
    ).fetchall()[0][0]
    assert evaluated == len(load_suite(gx_project / "gx/expectations" / f"{SUITE}.json")["expectations"])
    assert Path(bad["data_docs_page"]).exists()
    assert (gx_project / "gx/uncommitted/data_docs/local_site/index.html").exists()


def test_a_validated_batch_is_not_validated_again(gx_project: Path) -> None:
    con = warehouse(insight_batch("first"))
    summary = validate(con, gx_project, None, "build-1")
    con.register("summary", summary)
    con.execute("create table step_validations as select * from summary")
    con.register("second", insight_batch("second"))
    con.execute("insert into product_insights_log select * from second")

    assert new_batches(con.table("product_insights_log"), SUITE, "step_validations") == [("second", 4)]
    again = validate(con, gx_project, "step_validations", "build-2")
    assert again.column("batch_run_id").to_pylist() == ["second"]
    results_per_batch = dict(
        con.sql("select batch_run_id, count(distinct run_id) from expectation_results_log group by 1").fetchall()
    )
    assert results_per_batch == {"first": 1, "second": 1}


def test_nothing_new_appends_nothing(gx_project: Path) -> None:
    con = warehouse(insight_batch("only"))
    validated_batches(con, "only")
    assert validate(con, gx_project, "step_validations", "build-2").num_rows == 0
    assert con.sql("select count(*) from expectation_results_log").fetchall() == [(0,)]


def test_a_validations_table_of_an_older_warehouse_gets_batch_fingerprint_in_place(gx_project: Path) -> None:
    con = warehouse(insight_batch("old"), insight_batch("new"))
    validated = validate(con, gx_project, None, "build-1")
    older = validated.filter(pa.compute.equal(validated["batch_run_id"], "old")).drop_columns(["batch_fingerprint"])
    con.register("older", older)  # the step's table as it was before batch_fingerprint, "new" not validated yet
    con.execute("create table step_validations as select * from older")
    summary = validate(con, gx_project, "step_validations", "build-2")
    assert summary.column("batch_run_id").to_pylist() == ["new"]
    assert con.table("step_validations").columns == VALIDATIONS_SCHEMA.names
    assert con.sql("select batch_run_id, batch_fingerprint from step_validations").fetchall() == [("old", None)]


def test_a_suite_that_cannot_run_is_recorded_as_a_failure_not_raised(gx_project: Path) -> None:
    con = warehouse(insight_batch("b1"))
    summary = validate_log_batches(
        con,
        logs={"price_alert_log": con.table("product_insights_log")},
        validations=None,
        results_log="expectation_results_log",
        parameters=PARAMETERS,
        project_dir=gx_project,
        run=RunContext("build-1"),
    )
    [row] = summary.to_pylist()
    assert not row["success"]
    assert "suite_could_not_run()" in row["failures"]
    assert "python -m mrs.quality.scaffold price_alert_log" in row["failures"]


def test_failures_are_described_by_expectation_count_and_examples() -> None:
    row = {
        "expectation": SELLOUT,
        "unexpected_count": 1,
        "element_count": 4,
        "unexpected_examples": "[1.7]",
        "observed_value": None,
        "exception_message": None,
    }
    assert describe_failure(row) == f"{SELLOUT}: 1 unexpected of 4, e.g. [1.7]"
    assert describe_failure({**row, "unexpected_count": None, "observed_value": "7"}) == f"{SELLOUT}: observed 7"
    assert describe_failure({**row, "exception_message": "no column"}) == f"{SELLOUT}: error no column"


def test_expectations_are_named_by_type_and_columns() -> None:
    kwargs = {"column_A": "price_forecast_next_week", "column_B": "price_forecast_next_week_low", "or_equal": True}
    assert expectation_label("expect_column_pair_values_a_to_be_greater_than_b", expectation_columns(kwargs)) == LOW_ABOVE_POINT
    assert expectation_columns({"column_list": ["a", "b"]}) == ["a", "b"]
    assert expectation_columns({"value": 3}) == []


def test_exception_messages_are_read_from_both_shapes_ge_uses() -> None:
    assert exception_message({"raised_exception": True, "exception_message": "boom"}) == "boom"
    assert exception_message({"raised_exception": False, "exception_message": None}) is None
    keyed = {"metric.a": {"raised_exception": True, "exception_message": "a"}, "metric.b": {"raised_exception": False}}
    assert exception_message(keyed) == "a"


def test_results_are_appended_by_column_name() -> None:
    con = duckdb.connect()
    con.register("results_schema", RESULTS_LOG_SCHEMA.empty_table())
    con.execute("create table results as select * from results_schema")
    batch = Batch(SUITE, "log", "b1", 1)
    from mrs.quality.results import results_table, suite_error_rows

    append_results(con, "results", results_table(suite_error_rows(batch, RunContext("r1"), "boom", ge_version="x")))
    append_results(con, "results", results_table([]))
    assert con.sql("select suite_name, success, exception_message from results").fetchall() == [(SUITE, False, "boom")]


def test_an_empty_log_is_validated_once_for_its_columns_and_types(gx_project: Path) -> None:
    con = warehouse(insight_batch("dropped"))
    con.execute("delete from product_insights_log")
    [row] = validate(con, gx_project, None, "build-1").to_pylist()
    assert (row["batch_run_id"], row["batch_row_count"], row["success"]) == ("build-1", 0, True)
    assert row["evaluated_expectations"] > 0

    validated_batches(con, "build-1")
    assert validate(con, gx_project, "step_validations", "build-2").num_rows == 0
