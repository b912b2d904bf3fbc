"""The append-only log machinery: idempotent ids, new-row selection and typed, validated batches."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from mrs.logs import (
    LogSchemaError,
    LogSpec,
    ModelCard,
    RunContext,
    add_missing_log_columns,
    finalize,
    score_new_rows,
    with_log_ids,
)

SPEC = LogSpec(
    "doubling_log",
    ("item_id",),
    (pa.field("item_id", pa.string(), nullable=False), pa.field("doubled", pa.float64())),
)
CARD = ModelCard("doubler", "0", date(2025, 1, 1), "builtin:test", 0.9)
RUN = RunContext("run-1", datetime(2025, 1, 2, tzinfo=UTC))


def double(batch: pa.Table) -> pa.Table:
    return pa.table({"item_id": batch["item_id"], "doubled": pc.multiply(batch["value"], 2.0)})


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create table inputs as select * from (values ('a', 1.0), ('b', 2.0), ('c', null)) t(item_id, value)")
    return con


def score(con: duckdb.DuckDBPyConnection, log: str | None, card: ModelCard = CARD) -> pa.Table:
    return score_new_rows(con.table("inputs"), spec=SPEC, card=card, log_relation=log, predict=double, run=RUN)


def append(con: duckdb.DuckDBPyConnection, batch: pa.Table) -> None:
    con.register("batch", batch)
    if "doubling_log" in {r[0] for r in con.sql("show tables").fetchall()}:
        con.execute("insert into doubling_log select * from batch")
    else:
        con.execute("create table doubling_log as select * from batch")
    con.unregister("batch")


def test_first_score_returns_every_input_with_metadata_in_the_declared_schema(con) -> None:
    batch = score(con, None)
    assert batch.schema == SPEC.schema
    assert batch.num_rows == 3
    assert set(batch["model_version"].to_pylist()) == {"0"}
    assert batch["run_id"].to_pylist() == ["run-1"] * 3
    assert sorted(zip(batch["item_id"].to_pylist(), batch["doubled"].to_pylist(), strict=True), key=str) == [
        ("a", 2.0),
        ("b", 4.0),
        ("c", None),
    ]


def test_rerun_on_unchanged_inputs_appends_nothing(con) -> None:
    append(con, score(con, None))
    assert score(con, "doubling_log").num_rows == 0


def test_changed_input_scores_only_the_changed_row(con) -> None:
    append(con, score(con, None))
    con.execute("update inputs set value = 5.0 where item_id = 'b'")
    batch = score(con, "doubling_log")
    assert batch["item_id"].to_pylist() == ["b"]
    assert batch["doubled"].to_pylist() == [10.0]


def test_new_model_version_scores_every_row_again_beside_the_old_ones(con) -> None:
    append(con, score(con, None))
    batch = score(con, "doubling_log", replace(CARD, model_version="1"))
    assert batch.num_rows == 3
    assert set(batch["model_version"].to_pylist()) == {"1"}


def test_log_id_is_stable_and_null_is_not_the_empty_string(con) -> None:
    first = with_log_ids(con.table("inputs"), SPEC, CARD).to_arrow_table()
    second = with_log_ids(con.table("inputs"), SPEC, CARD).to_arrow_table()
    assert first["log_id"].to_pylist() == second["log_id"].to_pylist()
    con.execute("update inputs set value = null where item_id = 'a'")
    con.execute("insert into inputs values ('d', null)")
    fingerprints = with_log_ids(con.sql("select item_id, cast(value as varchar) as value from inputs"), SPEC, CARD)
    with_empty = con.sql("select 'x' as item_id, '' as value")
    assert with_log_ids(with_empty, SPEC, CARD).to_arrow_table()["input_fingerprint"][0] not in (
        fingerprints.to_arrow_table()["input_fingerprint"].to_pylist()
    )


def test_a_null_in_a_required_column_names_the_log_column_and_rows() -> None:
    outputs = pa.table(
        {
            "item_id": ["a", None],
            "doubled": [1.0, 2.0],
            "log_id": ["x", "y"],
            "input_fingerprint": ["f", "g"],
        }
    )
    with pytest.raises(LogSchemaError, match=r"doubling_log\.item_id: 1 null value\(s\)"):
        finalize(outputs, SPEC, CARD, RUN)


def test_a_missing_output_column_is_named() -> None:
    outputs = pa.table({"item_id": ["a"], "log_id": ["x"], "input_fingerprint": ["f"]})
    with pytest.raises(LogSchemaError, match=r"doubling_log: the model returned no column\(s\) \['doubled'\]"):
        finalize(outputs, SPEC, CARD, RUN)


def test_predict_must_return_one_row_per_input(con) -> None:
    with pytest.raises(LogSchemaError, match="predict returned 1 rows for 3 inputs"):
        score_new_rows(
            con.table("inputs"), spec=SPEC, card=CARD, log_relation=None, predict=lambda batch: double(batch).slice(0, 1), run=RUN
        )


def test_a_spec_cannot_reuse_a_metadata_column() -> None:
    with pytest.raises(LogSchemaError, match="reserved"):
        LogSpec("bad_log", ("run_id",), (pa.field("run_id", pa.string()),))


GROWN_SPEC = LogSpec(
    "doubling_log",
    ("item_id",),
    SPEC.columns + (pa.field("tripled", pa.float64()), pa.field("note", pa.list_(pa.string()))),
)


def test_an_old_log_is_upgraded_in_place_without_rewriting_a_row(con: duckdb.DuckDBPyConnection) -> None:
    first = score(con, None)
    con.register("first_batch", first)
    con.execute("create table log as select * from first_batch")
    before = con.sql("select * from log order by item_id").fetchall()

    added = add_missing_log_columns(con, "log", GROWN_SPEC.schema)

    assert added == ("tripled", "note")
    after = con.sql("select * exclude (tripled, note) from log order by item_id").fetchall()
    assert after == before
    assert con.sql("select count(*) from log where tripled is null and note is null").fetchall() == [(3,)]
    # a second call finds nothing to add
    assert add_missing_log_columns(con, "log", GROWN_SPEC.schema) == ()


def test_upgrading_refuses_columns_that_vanish_change_type_or_are_required(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create table log (item_id varchar, doubled double, dropped_later integer)")
    with pytest.raises(LogSchemaError, match="dropped_later"):
        add_missing_log_columns(con, "log", SPEC.schema)
    con.execute("create table typed_log (item_id varchar, doubled varchar)")
    with pytest.raises(LogSchemaError, match="doubled"):
        add_missing_log_columns(
            con, "typed_log", pa.schema([pa.field("item_id", pa.string()), pa.field("doubled", pa.float64())])
        )
    con.execute("create table short_log (item_id varchar)")
    with pytest.raises(LogSchemaError, match="must be nullable"):
        add_missing_log_columns(
            con, "short_log", pa.schema([pa.field("item_id", pa.string()), pa.field("n", pa.int64(), nullable=False)])
        )
    assert add_missing_log_columns(con, None, SPEC.schema) == ()


def test_a_confidence_outside_zero_one_never_reaches_a_log() -> None:
    outputs = pa.table({"item_id": ["a", "b"], "doubled": [1.0, 2.0], "log_id": ["x", "y"], "input_fingerprint": ["f", "g"]})
    with pytest.raises(
        LogSchemaError, match=r"doubling_log\.model_confidence_metric: a confidence must lie in \[0, 1\].*'item_id': 'b'"
    ):
        finalize(outputs, SPEC, CARD, RUN, confidence=pa.array([0.5, -0.48]))
    with pytest.raises(LogSchemaError, match=r"model_confidence_metric"):
        finalize(outputs, SPEC, replace(CARD, confidence_metric=1.5), RUN)


def test_the_sql_row_hash_equals_the_python_stable_id_with_nulls_as_a_token(con) -> None:
    from mrs.lifecycle.schemas import stable_id
    from mrs.logs import hash_sql

    parts = ["a", None, "", "1.5"]
    sql = hash_sql([f"cast({'null' if p is None else repr(p)} as varchar)" for p in parts])
    assert con.sql(f"select {sql}").fetchall()[0][0] == stable_id(*parts)
    assert stable_id("a", None) != stable_id("a", "")


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_current_rows_are_the_newest_row_per_key_of_the_given_version_with_the_log_columns(con, engine) -> None:
    from mrs.sql_rules import current_log_rows_sql

    rows = [
        {"item_id": "a", "doubled": 2.0, "log_id": "x1", "model_version": "0", "scored_at": datetime(2025, 1, 1, tzinfo=UTC)},
        {"item_id": "a", "doubled": 4.0, "log_id": "x2", "model_version": "0", "scored_at": datetime(2025, 1, 2, tzinfo=UTC)},
        {"item_id": "b", "doubled": 6.0, "log_id": "x3", "model_version": "1", "scored_at": datetime(2025, 1, 3, tzinfo=UTC)},
        {"item_id": "b", "doubled": 8.0, "log_id": "x4", "model_version": "0", "scored_at": datetime(2025, 1, 1, tzinfo=UTC)},
        {"item_id": "b", "doubled": 9.0, "log_id": "x0", "model_version": "0", "scored_at": datetime(2025, 1, 1, tzinfo=UTC)},
    ]
    log = pa.Table.from_pylist(rows, schema=SPEC.schema)  # noqa: F841 - read by DuckDB's replacement scan
    # both spellings of the one rule (the portable one runs on DuckDB too)
    rows_sql = current_log_rows_sql("log", SPEC.key_columns, {"model_version": "0"}, engine=engine)
    current = con.sql(f"select * from {rows_sql} as current_rows order by item_id")
    assert current.columns == SPEC.schema.names
    # newest by scored_at; a tie is broken by the smaller log_id; version 1's row is not version 0's
    assert [(r[0], r[1]) for r in current.fetchall()] == [("a", 4.0), ("b", 9.0)]


def test_a_step_computes_its_inputs_once(con) -> None:
    # a lazy input relation is re-computed by every query over it: the rows in and the new rows
    # must both come from one computation (at 10M store x SKU x days, 13 s of the baseline's 30 s)
    computed: list[int] = []

    def seen(value: float | None) -> bool:
        computed.append(1)
        return True

    con.create_function("seen", seen, ["DOUBLE"], "BOOLEAN", null_handling="special", side_effects=True)
    inputs = con.sql("select item_id, value from inputs where seen(value)")
    batch = score_new_rows(inputs, spec=SPEC, card=CARD, log_relation=None, predict=double, run=RUN)
    assert batch.num_rows == 3
    assert len(computed) == 3
    assert "mrs_doubling_log_candidates" not in {r[0] for r in con.sql("select table_name from duckdb_tables()").fetchall()}
