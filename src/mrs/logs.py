"""Append-only inference logs: schemas, idempotent row ids and per-inference metadata.

Every log in MRS follows the same rules (see docs/architecture.md, "Rules for the logs"):

* its Arrow schema is declared once, here in the package (:class:`LogSpec`), as the log's own
  columns followed by :data:`METADATA_FIELDS`;
* every row has a ``log_id``: a stable hash of its business key, ``model_name``,
  ``model_version`` and the ``input_fingerprint`` of the inputs it was computed from, so a build
  appends only rows whose ``log_id`` is not in the log yet and a re-run appends nothing;
* ``run_id`` and ``scored_at`` are the only per-run columns (:data:`PER_RUN_COLUMNS`); they are
  metadata, never inputs.

The functions work on DuckDB relations (what ``dbt.ref()`` returns under dbt-duckdb) so the
selection of new inputs happens in the warehouse and only new rows reach Python.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from mrs.duckdb_relations import computed_once, query_relation, quote
from mrs.sql_rules import row_hash_sql

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

NULL_TOKEN = "\\N"
"""How a null input value enters a fingerprint (distinct from the empty string); the SQL side is the
``row_hash`` macro (src/mrs/sql/log_rules.sql), which a test checks against this token."""

METADATA_FIELDS: tuple[pa.Field, ...] = (
    pa.field("log_id", pa.string(), nullable=False),
    pa.field("input_fingerprint", pa.string(), nullable=False),
    pa.field("model_name", pa.string(), nullable=False),
    pa.field("model_version", pa.string(), nullable=False),
    pa.field("trained_on", pa.date32(), nullable=False),
    pa.field("model_registry_source", pa.string(), nullable=False),
    pa.field("model_confidence_metric", pa.float64(), nullable=False),
    pa.field("run_id", pa.string(), nullable=False),
    pa.field("scored_at", pa.timestamp("us", tz="UTC"), nullable=False),
)
METADATA_COLUMNS: tuple[str, ...] = tuple(f.name for f in METADATA_FIELDS)
PER_RUN_COLUMNS: tuple[str, ...] = ("run_id", "scored_at")
"""The metadata that says which build wrote a row and when: never an input, never part of what a
row says (two warehouses built from the same data differ only there)."""


class LogSchemaError(ValueError):
    """A batch does not match its log's declared schema."""


@dataclass(frozen=True)
class LogSpec:
    """A log's declared shape: its name, business key and output columns.

    ``columns`` are the log's own fields (business key first); the metadata columns follow them.
    """

    name: str
    key_columns: tuple[str, ...]
    columns: tuple[pa.Field, ...]

    def __post_init__(self) -> None:
        names = [f.name for f in self.columns]
        missing = [k for k in self.key_columns if k not in names]
        if missing:
            raise LogSchemaError(f"{self.name}: key columns {missing} are not among its columns")
        clash = sorted(set(names) & set(METADATA_COLUMNS))
        if clash:
            raise LogSchemaError(f"{self.name}: columns {clash} are reserved for log metadata")

    @property
    def schema(self) -> pa.Schema:
        return pa.schema(list(self.columns) + list(METADATA_FIELDS))

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.columns)


@dataclass(frozen=True)
class ModelCard:
    """What produced a row: the identity of one model version, carried on every inference row."""

    model_name: str
    model_version: str
    trained_on: date
    registry_source: str
    confidence_metric: float
    description: str = ""


@dataclass(frozen=True)
class RunContext:
    """Per-run metadata. Never an input of a model."""

    run_id: str
    scored_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def current(cls) -> RunContext:
        """The running dbt invocation's id (we run inside the dbt process), else a fresh uuid."""
        run_id: str | None = None
        try:
            from dbt_common.invocation import get_invocation_id

            run_id = get_invocation_id()
        except Exception:  # pragma: no cover - outside dbt
            run_id = None
        return cls(run_id=run_id or str(uuid.uuid4()))


def hash_sql(expressions: Sequence[str]) -> str:
    """SQL for a stable md5 over expressions; nulls are a distinct token (:data:`NULL_TOKEN`), fields
    are separated. The rule is the dbt macro ``row_hash`` that the marts use, rendered."""
    return row_hash_sql(expressions)


def log_id_sql(key_columns: Sequence[str], card: ModelCard, fingerprint_expression: str) -> str:
    literals = [f"'{card.model_name}'", f"'{card.model_version}'"]
    return hash_sql([quote(c) for c in key_columns] + literals + [fingerprint_expression])


def with_log_ids(
    inputs: duckdb.DuckDBPyRelation,
    spec: LogSpec,
    card: ModelCard,
    fingerprint_columns: Sequence[str] | None = None,
) -> duckdb.DuckDBPyRelation:
    """Add ``input_fingerprint`` (over ``fingerprint_columns``, default: every input column) and
    ``log_id`` to a relation that holds one row per log row, keyed by ``spec.key_columns``."""
    columns = list(fingerprint_columns or inputs.columns)
    missing = [c for c in list(spec.key_columns) + columns if c not in inputs.columns]
    if missing:
        raise LogSchemaError(f"{spec.name}: the inputs have no column(s) {missing}")
    fingerprint = hash_sql([quote(c) for c in columns])
    fingerprinted = query_relation(inputs, "mrs_inputs", f"select *, {fingerprint} as input_fingerprint from mrs_inputs")
    return query_relation(
        fingerprinted,
        "mrs_fingerprinted",
        f"select *, {log_id_sql(spec.key_columns, card, 'input_fingerprint')} as log_id from mrs_fingerprinted",
    )


def unlogged(candidates: duckdb.DuckDBPyRelation, log_relation: str | None) -> duckdb.DuckDBPyRelation:
    """The candidate rows whose ``log_id`` is not in the log yet (all of them when there is no log)."""
    if not log_relation:
        return candidates
    return query_relation(
        candidates,
        "mrs_candidates",
        f"select * from mrs_candidates where log_id not in (select log_id from {log_relation})",
    )


def holds_value(con: duckdb.DuckDBPyConnection, log_relation: str | None, column: str, value: str) -> bool:
    """Whether the log has a row whose ``column`` is ``value`` (False when there is no log yet)."""
    if not log_relation:
        return False
    found = con.execute(f"select count(*) from {log_relation} where {quote(column)} = ?", [value]).fetchall()
    return bool(found[0][0])


@cache
def package_fingerprint() -> str:
    """sha256 of the ``mrs`` package's Python sources: a step that skips work its inputs already
    had done includes it, so a change of the code that computed the result is never skipped."""
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def finalize(
    outputs: pa.Table,
    spec: LogSpec,
    card: ModelCard,
    run: RunContext,
    *,
    confidence: pa.Array | None = None,
) -> pa.Table:
    """Attach the metadata columns and cast to the log's declared schema.

    ``outputs`` holds the log's own columns plus ``log_id`` and ``input_fingerprint``. A missing
    column, or a null in a non-nullable one, raises :class:`LogSchemaError` naming the log, the
    column and the offending rows; nothing is returned half-built.
    """
    n = outputs.num_rows
    required = list(spec.column_names) + ["log_id", "input_fingerprint"]
    missing = [c for c in required if c not in outputs.column_names]
    if missing:
        raise LogSchemaError(f"{spec.name}: the model returned no column(s) {missing}")
    metric = confidence if confidence is not None else pa.array([card.confidence_metric] * n, pa.float64())
    outside = pc.fill_null(pc.or_(pc.less(metric, 0.0), pc.greater(metric, 1.0)), False)
    if pc.any(outside).as_py():
        rows = pc.indices_nonzero(outside).to_pylist()[:10]
        keys = outputs.select(list(spec.key_columns)).take(rows).to_pylist()
        raise LogSchemaError(
            f"{spec.name}.model_confidence_metric: a confidence must lie in [0, 1]; {len(rows)} row(s) outside, "
            f"e.g. {pc.take(metric, rows).to_pylist()} at {keys}"
        )
    metadata = {
        "model_name": pa.array([card.model_name] * n, pa.string()),
        "model_version": pa.array([card.model_version] * n, pa.string()),
        "trained_on": pa.array([card.trained_on] * n, pa.date32()),
        "model_registry_source": pa.array([card.registry_source] * n, pa.string()),
        "model_confidence_metric": metric,
        "run_id": pa.array([run.run_id] * n, pa.string()),
        "scored_at": pa.array([run.scored_at] * n, pa.timestamp("us", tz="UTC")),
    }
    arrays = []
    for f in spec.schema:
        column = metadata[f.name] if f.name in metadata else outputs.column(f.name)
        try:
            column = column.cast(f.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise LogSchemaError(f"{spec.name}.{f.name}: cannot cast {column.type} to {f.type}: {exc}") from exc
        if not f.nullable and column.null_count:
            rows = pc.indices_nonzero(pc.is_null(column)).to_pylist()[:10]
            keys = outputs.select(list(spec.key_columns)).take(rows).to_pylist()
            raise LogSchemaError(f"{spec.name}.{f.name}: {column.null_count} null value(s) in a required column, e.g. at {keys}")
        arrays.append(column)
    return pa.Table.from_arrays(arrays, schema=spec.schema)


def add_missing_log_columns(con: duckdb.DuckDBPyConnection, log_relation: str | None, schema: pa.Schema) -> tuple[str, ...]:
    """Upgrade an existing log table in place to its declared ``schema``; returns the added columns.

    A log's columns may grow (a new model version needs a column, which is then added for every
    version, null where an older version has no value); they never change or disappear. Every
    declared column the table lacks is added with ``ALTER TABLE … ADD COLUMN``, so the old rows stay
    exactly as they were (null in the new column) and nothing is rewritten. Call it from a log's dbt
    Python model before returning its batch: the incremental materialization then finds the
    table's columns equal to the batch's (``on_schema_change: fail`` still refuses any other change).

    Raises :class:`LogSchemaError` when the table has a column the schema does not declare, a
    column of another type, or lacks a column that is declared non-nullable (its old rows could
    hold no value).
    """
    if not log_relation:
        return ()
    table = con.sql(f"select * from {log_relation} limit 0")
    existing = dict(zip(table.columns, (str(t) for t in table.types), strict=True))
    undeclared = [c for c in existing if c not in schema.names]
    if undeclared:
        raise LogSchemaError(
            f"{log_relation}: column(s) {undeclared} are not in the log's declared schema; a log's columns never disappear"
        )
    declared = con.from_arrow(pa.Table.from_batches([], schema=schema))
    declared_types = dict(zip(declared.columns, (str(t) for t in declared.types), strict=True))
    changed = {c: (existing[c], declared_types[c]) for c in existing if existing[c] != declared_types[c]}
    if changed:
        raise LogSchemaError(f"{log_relation}: column types differ from the declared schema (table, declared): {changed}")
    missing = [f for f in schema if f.name not in existing]
    required = [f.name for f in missing if not f.nullable]
    if required:
        raise LogSchemaError(
            f"{log_relation}: cannot add required column(s) {required} to a log that has rows; a column added "
            "to an existing log must be nullable"
        )
    for f in missing:
        con.execute(f"alter table {log_relation} add column {quote(f.name)} {declared_types[f.name]}")
    return tuple(f.name for f in missing)


def score_new_rows(
    inputs: duckdb.DuckDBPyRelation,
    *,
    spec: LogSpec,
    card: ModelCard,
    log_relation: str | None,
    predict: Callable[[pa.Table], pa.Table],
    run: RunContext | None = None,
    fingerprint_columns: Sequence[str] | None = None,
    confidence_column: str | None = None,
    detail: str = "",
) -> pa.Table:
    """The whole append-only scoring step for a log with one row per input row.

    Fingerprints the inputs in the warehouse once (into a temporary table: the rows in and the new
    rows are both read from it), keeps the rows whose ``log_id`` is not logged yet, pulls only
    those into Arrow, calls ``predict`` (which returns the log's own columns, one row
    per input row, in order) and returns the typed batch to append.
    """
    from mrs.step_log import timed_step

    with (
        timed_step(spec.name) as counts,
        computed_once(with_log_ids(inputs, spec, card, fingerprint_columns), f"mrs_{spec.name}_candidates") as candidates,
    ):
        counts.rows_in = candidates.aggregate("count(*)").fetchall()[0][0]
        batch = unlogged(candidates, log_relation).to_arrow_table()
        outputs = predict(batch.drop_columns(["log_id", "input_fingerprint"]))
        if outputs.num_rows != batch.num_rows:
            raise LogSchemaError(f"{spec.name}: predict returned {outputs.num_rows} rows for {batch.num_rows} inputs")
        outputs = outputs.append_column("log_id", batch.column("log_id")).append_column(
            "input_fingerprint", batch.column("input_fingerprint")
        )
        confidence = outputs.column(confidence_column) if confidence_column else None
        table = finalize(outputs, spec, card, run or RunContext.current(), confidence=confidence)
        counts.rows_new = table.num_rows
        counts.detail = f"{card.model_name} v{card.model_version}" + (f", {detail}" if detail else "")
    return table
