"""The suites compiled to SQL give Great Expectations' own outcome: every expectation type the suites
use, passing and failing, run by GE on the pandas frame and by mrs.quality.sql_expectations on the
same batch in DuckDB; and a large batch is validated in the warehouse by the step."""

from __future__ import annotations

import glob
import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from conftest import PROJECT_ROOT

from mrs.logs import RunContext
from mrs.quality.frames import to_frame
from mrs.quality.gx_context import RESULT_FORMAT, great_expectations
from mrs.quality.settings import SQL_ENGINE, ValidationSettings
from mrs.quality.sql_expectations import COMPILERS, SqlSuiteRunner
from mrs.quality.validate import plan_log_batches, run_planned

BATCH = pa.table(
    {
        "id": pa.array([1, 2, 3, 3, None, 6], pa.int64()),
        "score": pa.array([0.1, 0.5, 1.7, None, 0.2, -0.3], pa.float64()),
        "low": pa.array([0.0, 0.6, 1.0, 0.1, None, None], pa.float64()),
        "name": pa.array(["a", "b", "b", None, "e", "f"], pa.string()),
        "model_name": pa.array(["baseline", "baseline", "other", "other", "baseline", "other"], pa.string()),
        "hex": pa.array(["0a" * 16, "zz", "0b" * 16, None, "0c" * 16, "0d" * 16], pa.string()),
        "day": pa.array(
            [date(2025, 5, 1), date(2025, 6, 1), date(2025, 9, 1), None, date(2025, 5, 2), date(2025, 5, 3)], pa.date32()
        ),
        "at": pa.array([datetime(2025, 6, 1, tzinfo=UTC)] * 6, pa.timestamp("us", tz="UTC")),
        "flag": pa.array([True, False, None, True, True, False], pa.bool_()),
        "gone": pa.array([None] * 6, pa.string()),
    }
)
PARAMETERS = {"day_start": "2025-05-01T00:00:00", "day_end": "2025-08-12T00:00:00", "models": ["baseline", "other"]}


def e(kind: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": kind, "kwargs": kwargs}


BASELINE_ROWS = {"column": {"name": "model_name"}, "operator": "==", "parameter": "baseline", "type": "comparison"}
EXPECTATIONS = [
    e("expect_table_columns_to_match_ordered_list", column_list=BATCH.schema.names),
    e("expect_table_columns_to_match_ordered_list", column_list=list(reversed(BATCH.schema.names))),
    e("expect_table_columns_to_match_set", column_set=BATCH.schema.names, exact_match=True),
    e("expect_table_columns_to_match_set", column_set=BATCH.schema.names[:-1], exact_match=True),
    e("expect_table_row_count_to_equal", value=6),
    e("expect_table_row_count_to_equal", value=5),
    *(
        e("expect_column_values_to_be_of_type", column=c, type_=t)
        for c, t in [
            ("id", "int64"),
            ("score", "float64"),
            ("name", "str"),
            ("day", "datetime64"),
            ("at", "Timestamp"),
            ("flag", "bool"),
            ("score", "int64"),
            ("name", "float64"),
        ]
    ),
    e("expect_column_values_to_not_be_null", column="id"),
    e("expect_column_values_to_not_be_null", column="model_name"),
    e("expect_column_values_to_not_be_null", column="low", row_condition=BASELINE_ROWS),
    e("expect_column_values_to_be_null", column="gone"),
    e("expect_column_values_to_be_null", column="low", row_condition=BASELINE_ROWS),
    e("expect_column_values_to_be_between", column="score", min_value=0, max_value=1),
    e("expect_column_values_to_be_between", column="score", min_value=-1, max_value=2),
    e("expect_column_values_to_be_between", column="score", min_value=0),
    e("expect_column_values_to_be_between", column="id", max_value=4, row_condition=BASELINE_ROWS),
    e(
        "expect_column_values_to_be_between",
        column="day",
        min_value={"$PARAMETER": "day_start"},
        max_value={"$PARAMETER": "day_end"},
    ),
    e("expect_column_values_to_be_in_set", column="model_name", value_set={"$PARAMETER": "models"}),
    e("expect_column_values_to_be_in_set", column="name", value_set=["a", "b"]),
    e("expect_column_values_to_be_in_set", column="name", value_set=["a", "b", "e"], row_condition=BASELINE_ROWS),
    e("expect_column_values_to_be_in_set", column="flag", value_set=[True]),
    e("expect_column_values_to_be_unique", column="id"),
    e("expect_column_values_to_be_unique", column="score"),
    e("expect_column_values_to_be_unique", column="name", row_condition=BASELINE_ROWS),
    e("expect_compound_columns_to_be_unique", column_list=["id", "name"]),
    e("expect_compound_columns_to_be_unique", column_list=["name", "model_name"]),
    e("expect_compound_columns_to_be_unique", column_list=["id", "model_name"]),
    e("expect_column_values_to_match_regex", column="hex", regex="^[0-9a-f]{32}$"),
    e("expect_column_values_to_match_regex", column="name", regex="^[a-f]$"),
    e(
        "expect_column_pair_values_a_to_be_greater_than_b",
        column_A="score",
        column_B="low",
        or_equal=True,
        ignore_row_if="both_values_are_missing",
    ),
    e(
        "expect_column_pair_values_a_to_be_greater_than_b",
        column_A="score",
        column_B="low",
        or_equal=False,
        ignore_row_if="either_value_is_missing",
    ),
    e(
        "expect_column_pair_values_a_to_be_greater_than_b",
        column_A="score",
        column_B="score",
        or_equal=True,
        ignore_row_if="both_values_are_missing",
    ),
    e("expect_column_distinct_values_to_contain_set", column="model_name", value_set=["baseline"]),
    e("expect_column_distinct_values_to_contain_set", column="model_name", value_set=["baseline", "missing"]),
]


def ge_results(table: pa.Table, expectations: list[dict[str, Any]], parameters: dict[str, Any]) -> list[dict[str, Any]]:
    """Great Expectations itself on the batch's pandas frame (an ephemeral context), in the order of
    ``expectations``. A GE suite keeps one expectation per type and domain, so they run in rounds
    of one expectation per type."""
    gx = great_expectations()
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    context = gx.get_context(mode="ephemeral")
    asset = context.data_sources.add_pandas("frames").add_dataframe_asset("batch")
    batch = asset.add_batch_definition_whole_dataframe("whole").get_batch(batch_parameters={"dataframe": to_frame(table)})
    rounds: list[dict[str, dict[str, Any]]] = []
    for spec in expectations:
        free = next((r for r in rounds if spec["type"] not in r), None)
        if free is None:
            rounds.append(free := {})
        free[spec["type"]] = spec
    by_spec: dict[int, dict[str, Any]] = {}
    for n, specs in enumerate(rounds):
        suite = gx.ExpectationSuite(name=f"equivalence_{n}")
        for spec in specs.values():
            suite.add_expectation_configuration(ExpectationConfiguration(type=spec["type"], kwargs=dict(spec["kwargs"])))
        suite = context.suites.add(suite)
        results = batch.validate(suite, expectation_parameters=parameters, result_format=RESULT_FORMAT).to_json_dict()["results"]
        assert sorted(r["expectation_config"]["type"] for r in results) == sorted(specs)
        by_spec |= {id(specs[r["expectation_config"]["type"]]): r for r in results}
    return [by_spec[id(spec)] for spec in expectations]


def outcome(result: dict[str, Any]) -> tuple:
    details = result.get("result") or {}
    examples = details.get("partial_unexpected_list")
    shown = sorted(json.dumps(x, default=str) for x in examples) if examples else []
    return result["success"], details.get("unexpected_count"), shown


def test_every_expectation_type_the_suites_use_has_an_sql_form() -> None:
    used = {
        expectation["type"]
        for path in glob.glob(str(PROJECT_ROOT / "expectations/gx/expectations/*.json"))
        for expectation in json.loads(Path(path).read_text())["expectations"]
    }
    assert used <= set(COMPILERS), sorted(used - set(COMPILERS))


def test_sql_gives_great_expectations_outcome_for_every_expectation_type() -> None:
    assert {x["type"] for x in EXPECTATIONS} == set(COMPILERS)
    ge = ge_results(BATCH, EXPECTATIONS, PARAMETERS)
    sql = SqlSuiteRunner(duckdb.connect().from_arrow(BATCH), PARAMETERS).run(EXPECTATIONS)["results"]
    assert len(ge) == len(sql) == len(EXPECTATIONS)
    mismatches = [
        (spec["type"], spec["kwargs"], outcome(g), outcome(s))
        for spec, g, s in zip(EXPECTATIONS, ge, sql, strict=True)
        if outcome(g)[:2] != outcome(s)[:2]
        or (g["result"].get("partial_unexpected_list") is not None and outcome(g)[2] != outcome(s)[2])
    ]
    assert not mismatches, "\n".join(map(str, mismatches))
    # both passing and failing outcomes are exercised, for every type
    assert {r["success"] for r in sql} == {True, False}
    for kind in COMPILERS:
        assert {s["success"] for spec, s in zip(EXPECTATIONS, sql, strict=True) if spec["type"] == kind} == {True, False}, kind


def test_a_missing_parameter_or_column_fails_its_expectation_by_name() -> None:
    runner = SqlSuiteRunner(duckdb.connect().from_arrow(BATCH), {})
    results = runner.run(
        [
            e("expect_column_values_to_be_in_set", column="model_name", value_set={"$PARAMETER": "models"}),
            e("expect_column_values_to_not_be_null", column="no_such_column"),
            e("expect_column_values_to_be_null", column="gone"),
        ]
    )["results"]
    assert [r["success"] for r in results] == [False, False, True]
    assert "models" in results[0]["exception_info"]["exception_message"]
    assert "no_such_column" in results[1]["exception_info"]["exception_message"]


def test_a_large_log_batch_is_validated_in_the_warehouse_with_the_committed_suite(tmp_path: Path) -> None:
    from test_expectations_validation import PARAMETERS as INSIGHT_PARAMETERS
    from test_expectations_validation import SUITE, corrupted_batch, warehouse

    project = tmp_path / "expectations"
    shutil.copytree(PROJECT_ROOT / "expectations", project, ignore=shutil.ignore_patterns("uncommitted"))
    con = warehouse(corrupted_batch("bad-batch"))
    planned = plan_log_batches({SUITE: con.table("product_insights_log")}, None, RunContext("build-1"))
    run = RunContext("build-1")
    in_ge = run_planned(
        planned, project_dir=project, parameters=INSIGHT_PARAMETERS, run=run, settings=ValidationSettings(sql_min_rows=10**9)
    )
    in_sql = run_planned(
        planned, project_dir=project, parameters=INSIGHT_PARAMETERS, run=run, settings=ValidationSettings(sql_min_rows=0)
    )

    def by_expectation(details: pa.Table) -> dict[str, tuple]:
        return {r["expectation_id"]: (r["success"], r["unexpected_count"], r["unexpected_examples"]) for r in details.to_pylist()}

    assert by_expectation(in_sql[0]) == by_expectation(in_ge[0])
    (sql_failures,), (ge_failures,) = in_sql[1].column("failures").to_pylist(), in_ge[1].column("failures").to_pylist()
    assert set(sql_failures.split("; ")) == set(ge_failures.split("; "))  # GE orders its results its own way
    assert not in_sql[1].column("success")[0].as_py()
    engines = set(in_sql[0].column("great_expectations_version").to_pylist())
    assert len(engines) == 1 and engines.pop().endswith(SQL_ENGINE)
    assert set(in_sql[0].column("data_docs_page").to_pylist()) == {None}
