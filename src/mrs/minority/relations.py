"""Reading the warehouse from the stages: SQL over several relations, and a log's current rows.

The stages receive DuckDB relations (what ``dbt.ref()`` returns under dbt-duckdb) and do their
joins and windows in SQL, so only what a stage scores ever reaches Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from mrs.logs import quote
from mrs.sql_rules import current_log_rows_sql

if TYPE_CHECKING:  # pragma: no cover
    import duckdb


def sql_over(
    con: duckdb.DuckDBPyConnection,
    relations: Mapping[str, duckdb.DuckDBPyRelation],
    sql: str,
) -> duckdb.DuckDBPyRelation:
    """A lazy relation for ``sql``, in which each relation is readable under its name."""
    ctes = ",\n".join(f"{quote(name)} as (\n{rel.sql_query()}\n)" for name, rel in relations.items())
    return con.sql(f"with {ctes}\nselect * from (\n{sql}\n) as mrs_result")


def sql_literal(value: object) -> str:
    """A SQL string literal (versions and dates come from configuration, so escape them)."""
    return "'" + str(value).replace("'", "''") + "'"


def current_rows_sql(log: str, key_columns: Sequence[str], versions: Mapping[str, str]) -> str:
    """SQL for the current rows of an append-only log, with its columns: the rows written by the
    given versions (``{column: version}``, e.g. ``{"model_version": "0"}``) and, per business key,
    the latest.

    A log keeps every row it ever got; when the inputs of a key change under the same version, a
    newer row is appended beside the old one, and the newest (by ``scored_at``, then ``log_id``
    for a stable tie-break) is the current one. The rule is the dbt macro ``current_log_rows``
    that the marts use, rendered (:mod:`mrs.sql_rules`).
    """
    return f"select * from {current_log_rows_sql(log, key_columns, versions)} as current_rows"
