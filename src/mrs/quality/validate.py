"""The validation steps the dbt models in ``models/ml/quality`` call.

:func:`validate_log_batches` runs after the logs: for every log it finds the batches (``run_id``
values) without a validation yet, pulls each batch alone from the warehouse and runs the log's
suite on it. :func:`validate_marts` runs after the marts and validates each whole mart. Both

* never raise on bad data: every expectation's outcome becomes a row of
  ``expectation_results_log`` (appended through the step's DuckDB session), and a suite that
  cannot run at all is recorded as a failed row too, so the build fails by name either way;
* return one row per suite × batch (the step model's own table), which the ``expectations_pass``
  test reads to fail the build and the ``validated_log`` macro reads to publish only passed batches;
* import Great Expectations only when there is something to validate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import pyarrow as pa

from mrs.logs import RunContext
from mrs.quality.frames import batch_table, sql_literal, to_frame
from mrs.quality.results import (
    Batch,
    result_rows,
    results_table,
    suite_error_rows,
    summary_row,
    validations_table,
)
from mrs.quality.settings import LOG_KIND, MART_KIND, ValidationSettings

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

BATCH_COLUMN = "run_id"
"""What makes a log batch: the rows one build appended share its ``run_id``."""


@dataclass(frozen=True)
class PlannedBatch:
    """A batch to validate, and how to pull its rows (only when its turn comes)."""

    batch: Batch
    load: Callable[[], pa.Table]


def new_batches(log: "duckdb.DuckDBPyRelation", suite_name: str, validations: str | None) -> list[tuple[str, int]]:
    """The ``(run_id, rows)`` of a log's batches that have no validation by this suite yet.

    Only the ``run_id`` column is read (the one pass over the log's history; the rows themselves
    are pulled batch by batch); ``validations`` is the step's own table (None on its first build,
    when every batch is new).
    """
    already = (
        f"where {BATCH_COLUMN} not in (select batch_run_id from {validations} "
        f"where suite_name = {sql_literal(suite_name)})"
        if validations
        else ""
    )
    return log.query(
        "mrs_log",
        f"select {BATCH_COLUMN}, count(*) from mrs_log {already} group by {BATCH_COLUMN} order by {BATCH_COLUMN}",
    ).fetchall()


def never_validated(suite_name: str, validations: str | None, via: "duckdb.DuckDBPyRelation") -> bool:
    """Whether the suite has no validation at all yet (always true on the step's first build);
    ``via`` is any relation of the session, the query runs on its connection."""
    if not validations:
        return True
    return not via.query(
        "mrs_any", f"select 1 from {validations} where suite_name = {sql_literal(suite_name)} limit 1"
    ).fetchall()


def plan_log_batches(
    logs: Mapping[str, "duckdb.DuckDBPyRelation"], validations: str | None, run: RunContext
) -> list[PlannedBatch]:
    """Every new batch of every log; a log that is still empty and was never validated gets one
    empty batch (named after this build), so its columns and types are checked from the start."""
    planned = []
    for suite_name, relation in logs.items():
        batches = new_batches(relation, suite_name, validations)
        for run_id, rows in batches:
            if run_id is None:  # no batch to name: never validated, so never published
                continue
            planned.append(
                PlannedBatch(
                    Batch(suite_name, LOG_KIND, str(run_id), int(rows)),
                    lambda relation=relation, run_id=run_id: batch_table(relation, BATCH_COLUMN, run_id),
                )
            )
        if not batches and never_validated(suite_name, validations, relation):
            empty = relation.query("mrs_log", "select * from mrs_log limit 0")
            planned.append(PlannedBatch(Batch(suite_name, LOG_KIND, run.run_id, 0), empty.to_arrow_table))
    return planned


def plan_marts(marts: Mapping[str, pa.Table], run: RunContext) -> list[PlannedBatch]:
    """A mart is validated whole, as the batch this build published."""
    return [
        PlannedBatch(Batch(suite_name, MART_KIND, run.run_id, table.num_rows), lambda table=table: table)
        for suite_name, table in marts.items()
    ]


def append_results(session: "duckdb.DuckDBPyConnection", results_log: str, table: pa.Table) -> None:
    """Append result rows to ``expectation_results_log`` (by column name)."""
    if table.num_rows == 0:
        return
    session.register("mrs_expectation_results", table)
    try:
        session.execute(f"insert into {results_log} by name select * from mrs_expectation_results")
    finally:
        session.unregister("mrs_expectation_results")


def _validate_one(
    project: Any, item: PlannedBatch, parameters: Mapping[str, Any], run: RunContext, settings: ValidationSettings
) -> tuple[list[dict[str, Any]], Any]:
    """One batch through its suite: (result rows, the GE run or None when the suite could not run)."""
    try:
        suite_run = project.run_suite(item.batch.suite_name, to_frame(item.load()), parameters, run.run_id)
    except Exception as exc:  # recorded as a failed suite, never raised: the test fails the build
        return suite_error_rows(item.batch, run, f"{type(exc).__name__}: {exc}", ge_version=project.version), None
    rows = result_rows(suite_run.validation, item.batch, run, data_docs_page=None, ge_version=project.version, settings=settings)
    return rows, suite_run


def run_planned(
    planned: Sequence[PlannedBatch],
    *,
    project_dir: str | Path,
    parameters: Mapping[str, Any],
    run: RunContext,
    settings: ValidationSettings = ValidationSettings(),
) -> tuple[pa.Table, pa.Table]:
    """Run each batch's suite, then render their Data Docs pages; return (result rows, one summary
    row per batch). Great Expectations is imported here, and only when there is a batch."""
    if not planned:
        return results_table([]), validations_table([])
    from mrs.quality.gx_context import RUN_LOCK, GxProject

    with RUN_LOCK:
        project = GxProject(project_dir)
        outcomes = [(item.batch, *_validate_one(project, item, parameters, run, settings)) for item in planned]
        runs = [suite_run for _, _, suite_run in outcomes if suite_run is not None]
        project.build_data_docs(runs)
        pages = {id(suite_run): project.data_docs_page(suite_run) for suite_run in runs}
    details, summaries = [], []
    for batch, rows, suite_run in outcomes:
        page = pages.get(id(suite_run))
        for row in rows:
            row["data_docs_page"] = page
        details.extend(rows)
        summaries.append(summary_row(batch, rows, run, data_docs_page=page, settings=settings))
    return results_table(details), validations_table(summaries)


def record(
    session: "duckdb.DuckDBPyConnection",
    plan: Callable[[RunContext], Sequence[PlannedBatch]],
    *,
    results_log: str,
    parameters: Mapping[str, Any],
    project_dir: str | Path,
    run: RunContext | None,
    kind: str = "batches",
) -> pa.Table:
    """Plan the batches for this run, validate them, append their results; return one row per batch."""
    from mrs.step_log import timed_step

    run = run or RunContext.current()
    with timed_step(f"validate {kind}") as counts:
        planned = plan(run)
        details, summary = run_planned(planned, project_dir=project_dir, parameters=parameters, run=run)
        append_results(session, results_log, details)
        failed = summary.num_rows - sum(bool(v) for v in summary.column("success").to_pylist())
        counts.rows_in = sum(item.batch.row_count for item in planned)
        counts.rows_new = details.num_rows
        counts.detail = f"{len(planned)} batch(es) of {', '.join(sorted({i.batch.suite_name for i in planned})) or 'none'}, {failed} failed"
    return summary


def validate_log_batches(
    session: "duckdb.DuckDBPyConnection",
    *,
    logs: Mapping[str, "duckdb.DuckDBPyRelation"],
    validations: str | None,
    results_log: str,
    parameters: Mapping[str, Any],
    project_dir: str | Path,
    run: RunContext | None = None,
) -> pa.Table:
    """Validate every not-yet-validated batch of every log; append the results; return the batches' rows."""
    return record(
        session,
        lambda run: plan_log_batches(logs, validations, run),
        results_log=results_log,
        parameters=parameters,
        project_dir=project_dir,
        run=run,
        kind="log batches",
    )


def validate_marts(
    session: "duckdb.DuckDBPyConnection",
    *,
    marts: Mapping[str, "duckdb.DuckDBPyRelation"],
    results_log: str,
    parameters: Mapping[str, Any],
    project_dir: str | Path,
    publish_to: Path | None = None,
    run: RunContext | None = None,
) -> pa.Table:
    """Validate each mart as this build published it; append the results; return one row per mart.

    With ``publish_to``, each mart that passed is then written there as Parquet, atomically
    (:mod:`mrs.publish`): exactly the rows that were validated.
    """
    run = run or RunContext.current()
    tables = {name: relation.to_arrow_table() for name, relation in marts.items()}
    summary = record(
        session,
        lambda run: plan_marts(tables, run),
        results_log=results_log,
        parameters=parameters,
        project_dir=project_dir,
        run=run,
        kind="marts",
    )
    if publish_to is not None:
        from mrs.publish import publish_marts

        passed = dict(zip(summary.column("suite_name").to_pylist(), summary.column("success").to_pylist()))
        publish_marts(tables, passed, publish_to, run)
    return summary


def sibling_relation(this: Any, identifier: str) -> str:
    """The relation ``identifier`` in the schema of a dbt Python model's ``dbt.this``."""
    return f'"{this.database}"."{this.schema}"."{identifier}"'
