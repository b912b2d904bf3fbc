"""The validation steps the dbt models in ``models/ml/quality`` call.

:func:`validate_log_batches` runs after the logs: for every log it finds the batches (``run_id``
values) without a validation yet and runs the log's suite on each batch alone.
:func:`validate_marts` runs after the marts and validates each whole mart whose content changed
since its latest passed validation. A batch of at least ``ValidationSettings.sql_min_rows`` rows is
validated in the warehouse, its suite compiled to SQL (:mod:`mrs.quality.sql_expectations`); a
smaller one is pulled into pandas and run by Great Expectations (with its Data Docs page). Both

* never raise on bad data: every expectation's outcome becomes a row of
  ``expectation_results_log`` (appended through the step's DuckDB session), and a suite that
  cannot run at all is recorded as a failed row too, so the build fails by name either way;
* return one row per suite × batch (the step model's own table), which the ``expectations_pass``
  test reads to fail the build and the ``validated_log`` macro reads to publish only passed batches;
* import Great Expectations only when there is something to validate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from mrs.duckdb_relations import query_relation, warehouse_fingerprint
from mrs.logs import RunContext, add_missing_log_columns
from mrs.quality.frames import batch_relation, sql_literal, to_frame
from mrs.quality.results import (
    Batch,
    result_rows,
    results_table,
    suite_error_rows,
    summary_row,
    validations_table,
)
from mrs.quality.schemas import VALIDATIONS_SCHEMA
from mrs.quality.settings import LOG_KIND, MART_KIND, SQL_ENGINE, ValidationSettings, suite_dir
from mrs.quality.sql_expectations import SqlSuiteRunner
from mrs.quality.suites import load_suite, suite_expectations

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

BATCH_COLUMN = "run_id"
"""What makes a log batch: the rows one build appended share its ``run_id``."""


@dataclass(frozen=True)
class PlannedBatch:
    """A batch to validate: its rows as a lazy warehouse relation, pulled (for Great Expectations)
    only when its turn comes, or validated where they are (large batches, as SQL)."""

    batch: Batch
    relation: duckdb.DuckDBPyRelation

    def load(self) -> pa.Table:
        return self.relation.to_arrow_table()


def new_batches(log: duckdb.DuckDBPyRelation, suite_name: str, validations: str | None) -> list[tuple[str, int]]:
    """The ``(run_id, rows)`` of a log's batches that have no validation by this suite yet.

    Only the ``run_id`` column is read (the one pass over the log's history; the rows themselves
    are pulled batch by batch); ``validations`` is the step's own table (None on its first build,
    when every batch is new).
    """
    already = (
        f"where {BATCH_COLUMN} not in (select batch_run_id from {validations} where suite_name = {sql_literal(suite_name)})"
        if validations
        else ""
    )
    return query_relation(
        log,
        "mrs_log",
        f"select {BATCH_COLUMN}, count(*) from mrs_log {already} group by {BATCH_COLUMN} order by {BATCH_COLUMN}",
    ).fetchall()


def never_validated(suite_name: str, validations: str | None, via: duckdb.DuckDBPyRelation) -> bool:
    """Whether the suite has no validation at all yet (always true on the step's first build);
    ``via`` is any relation of the session, the query runs on its connection."""
    if not validations:
        return True
    return not query_relation(
        via, "mrs_any", f"select 1 from {validations} where suite_name = {sql_literal(suite_name)} limit 1"
    ).fetchall()


def plan_log_batches(logs: Mapping[str, duckdb.DuckDBPyRelation], validations: str | None, run: RunContext) -> list[PlannedBatch]:
    """Every new batch of every log; a log that is still empty and was never validated gets one
    empty batch (named after this build), so its columns and types are checked from the start."""
    planned = []
    for suite_name, relation in logs.items():
        batches = new_batches(relation, suite_name, validations)
        for run_id, rows in batches:
            if run_id is None:  # no batch to name: never validated, so never published
                continue
            planned.append(
                PlannedBatch(Batch(suite_name, LOG_KIND, str(run_id), int(rows)), batch_relation(relation, BATCH_COLUMN, run_id))
            )
        if not batches and never_validated(suite_name, validations, relation):
            empty = query_relation(relation, "mrs_log", "select * from mrs_log limit 0")
            planned.append(PlannedBatch(Batch(suite_name, LOG_KIND, run.run_id, 0), empty))
    return planned


def last_passed_fingerprints(validations: str | None, via: duckdb.DuckDBPyRelation) -> dict[str, str]:
    """Suite → the content fingerprint of its latest validation, if that validation passed."""
    if not validations:
        return {}
    rows = query_relation(
        via,
        "mrs_any",
        f"""select suite_name, arg_max(batch_fingerprint, validated_at), arg_max(success, validated_at)
            from {validations} group by suite_name""",
    ).fetchall()
    return {suite: fingerprint for suite, fingerprint, success in rows if success and fingerprint}


def plan_marts(marts: Mapping[str, duckdb.DuckDBPyRelation], validations: str | None, run: RunContext) -> list[PlannedBatch]:
    """A mart is validated whole, as the batch this build published - unless its content is the
    same as at its latest validation and that one passed: a build that changed nothing in a mart
    does not validate it again (cost follows changes, not the mart's size)."""
    relations = list(marts.values())
    passed = last_passed_fingerprints(validations, relations[0]) if relations else {}
    planned = []
    for suite_name, relation in marts.items():
        rows, fingerprint = warehouse_fingerprint(relation)
        if passed.get(suite_name) == fingerprint:
            continue
        planned.append(PlannedBatch(Batch(suite_name, MART_KIND, run.run_id, rows, fingerprint), relation))
    return planned


def append_results(session: duckdb.DuckDBPyConnection, results_log: str, table: pa.Table) -> None:
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


def validate_in_sql(
    item: PlannedBatch, project_dir: str | Path, parameters: Mapping[str, Any], run: RunContext, settings: ValidationSettings
) -> list[dict[str, Any]]:
    """One (large) batch through its suite compiled to SQL, in the warehouse: result rows in the
    same form as a GE run's (no Data Docs page). Never raises, as :func:`_validate_one`."""
    engine = f"{installed_ge_version()} {SQL_ENGINE}"
    path = suite_dir(Path(project_dir)) / f"{item.batch.suite_name}.json"
    try:
        suite = load_suite(path)
        validation = SqlSuiteRunner(item.relation, parameters).run(suite_expectations(suite))
    except Exception as exc:  # recorded as a failed suite, never raised: the test fails the build
        return suite_error_rows(item.batch, run, f"{type(exc).__name__}: {exc} ({path})", ge_version=engine)
    return result_rows(validation, item.batch, run, data_docs_page=None, ge_version=engine, settings=settings)


def installed_ge_version() -> str:
    """Great Expectations' version, without importing it (the import costs about two seconds)."""
    from importlib.metadata import version

    return version("great_expectations")


def run_planned(
    planned: Sequence[PlannedBatch],
    *,
    project_dir: str | Path,
    parameters: Mapping[str, Any],
    run: RunContext,
    settings: ValidationSettings = ValidationSettings(),
) -> tuple[pa.Table, pa.Table]:
    """Run each batch's suite - as SQL in the warehouse for a batch of at least
    ``settings.sql_min_rows`` rows, else with Great Expectations on a pandas frame, rendering its
    Data Docs page - and return (result rows, one summary row per batch). Great Expectations is
    imported here, and only when a batch goes to it."""
    if not planned:
        return results_table([]), validations_table([])
    in_sql = [item for item in planned if item.batch.row_count >= settings.sql_min_rows]
    in_ge = [item for item in planned if item.batch.row_count < settings.sql_min_rows]
    outcomes: list[tuple[Batch, list[dict[str, Any]], Any]] = [
        (item.batch, validate_in_sql(item, project_dir, parameters, run, settings), None) for item in in_sql
    ]
    pages: dict[int, str | None] = {}
    if in_ge:
        from mrs.quality.gx_context import RUN_LOCK, GxProject

        with RUN_LOCK:
            project = GxProject(project_dir)
            ge_outcomes = [(item.batch, *_validate_one(project, item, parameters, run, settings)) for item in in_ge]
            runs = [suite_run for _, _, suite_run in ge_outcomes if suite_run is not None]
            project.build_data_docs(runs)
            pages = {id(suite_run): project.data_docs_page(suite_run) for suite_run in runs}
        outcomes += ge_outcomes
    order = {id(item.batch): n for n, item in enumerate(planned)}
    outcomes.sort(key=lambda outcome: order[id(outcome[0])])
    details, summaries = [], []
    for batch, rows, suite_run in outcomes:
        page = pages.get(id(suite_run))
        for row in rows:
            row["data_docs_page"] = page
        details.extend(rows)
        summaries.append(summary_row(batch, rows, run, data_docs_page=page, settings=settings))
    return results_table(details), validations_table(summaries)


def record(
    session: duckdb.DuckDBPyConnection,
    plan: Callable[[RunContext], Sequence[PlannedBatch]],
    *,
    validations: str | None,
    results_log: str,
    parameters: Mapping[str, Any],
    project_dir: str | Path,
    run: RunContext | None,
    kind: str = "batches",
) -> pa.Table:
    """Plan the batches for this run, validate them, append their results; return one row per batch.

    A validations table of an older warehouse gets the columns added since (``batch_fingerprint``)
    in place, before it is read, so that the step's batch appends to it."""
    from mrs.step_log import timed_step

    add_missing_log_columns(session, validations, VALIDATIONS_SCHEMA)
    run = run or RunContext.current()
    with timed_step(f"validate {kind}") as counts:
        planned = plan(run)
        details, summary = run_planned(planned, project_dir=project_dir, parameters=parameters, run=run)
        append_results(session, results_log, details)
        failed = summary.num_rows - sum(bool(v) for v in summary.column("success").to_pylist())
        counts.rows_in = sum(item.batch.row_count for item in planned)
        counts.rows_new = details.num_rows
        counts.detail = (
            f"{len(planned)} batch(es) of {', '.join(sorted({i.batch.suite_name for i in planned})) or 'none'}, {failed} failed"
        )
    return summary


def validate_log_batches(
    session: duckdb.DuckDBPyConnection,
    *,
    logs: Mapping[str, duckdb.DuckDBPyRelation],
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
        validations=validations,
        results_log=results_log,
        parameters=parameters,
        project_dir=project_dir,
        run=run,
        kind="log batches",
    )


def validate_marts(
    session: duckdb.DuckDBPyConnection,
    *,
    marts: Mapping[str, duckdb.DuckDBPyRelation],
    validations: str | None,
    results_log: str,
    parameters: Mapping[str, Any],
    project_dir: str | Path,
    publish_to: Path | None = None,
    run: RunContext | None = None,
) -> pa.Table:
    """Validate each mart this build changed, as it published it; append the results; return one
    row per validated mart (``validations``: the step's own table, None on its first build).

    With ``publish_to``, each mart that passed is then written there as Parquet, atomically
    (:mod:`mrs.publish`), straight from the warehouse: exactly the rows that were validated. A mart
    left unchanged since its latest passed validation keeps the file that validation published.
    """
    run = run or RunContext.current()
    summary = record(
        session,
        lambda run: plan_marts(marts, validations, run),
        validations=validations,
        results_log=results_log,
        parameters=parameters,
        project_dir=project_dir,
        run=run,
        kind="marts",
    )
    if publish_to is not None:
        from mrs.publish import publish_marts

        validated = dict(zip(summary.column("suite_name").to_pylist(), summary.column("success").to_pylist(), strict=True))
        publish_marts(marts, validated, publish_to, run)
    return summary


def sibling_relation(this: Any, identifier: str) -> str:
    """The relation ``identifier`` in the schema of a dbt Python model's ``dbt.this``."""
    return f'"{this.database}"."{this.schema}"."{identifier}"'
