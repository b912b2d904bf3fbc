"""Typed access to DuckDB relations.

DuckDB types ``DuckDBPyRelation.query()`` as returning ``DuckDBPyRelation | None`` (a statement
that returns nothing gives None). Every query here returns rows, so :func:`query_relation` narrows the
result and fails with a clear error if a query ever does not.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import duckdb


def query_relation(relation: duckdb.DuckDBPyRelation, name: str, sql: str) -> duckdb.DuckDBPyRelation:
    """``relation.query(name, sql)``: ``sql`` over the relation, readable under ``name``."""
    result = relation.query(name, sql)
    if result is None:
        raise TypeError(f"DuckDB returned no relation for a query over {name!r} that should return rows: {sql[:200]}")
    return result


@contextmanager
def computed_once(relation: duckdb.DuckDBPyRelation, name: str) -> Iterator[duckdb.DuckDBPyRelation]:
    """The relation's rows computed once into a temporary table ``name`` (in the warehouse, spilling
    to disk when large), read as a relation while the block runs, then dropped.

    A lazy relation is re-computed by every query over it; a step that reads it twice (its rows and
    their count) would run its windows, joins and hashes twice.
    """
    query_relation(relation, "mrs_computed_once", f"create or replace temporary table {name} as select * from mrs_computed_once")
    try:
        yield query_relation(relation, "mrs_computed_once", f"select * from {name}")
    finally:
        relation.query("mrs_computed_once", f"drop table if exists {name}")
