"""Typed access to DuckDB relations.

DuckDB types ``DuckDBPyRelation.query()`` as returning ``DuckDBPyRelation | None`` (a statement
that returns nothing gives None). Every query here returns rows, so :func:`query_relation` narrows the
result and fails with a clear error if a query ever does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import duckdb


def query_relation(relation: duckdb.DuckDBPyRelation, name: str, sql: str) -> duckdb.DuckDBPyRelation:
    """``relation.query(name, sql)``: ``sql`` over the relation, readable under ``name``."""
    result = relation.query(name, sql)
    if result is None:
        raise TypeError(f"DuckDB returned no relation for a query over {name!r} that should return rows: {sql[:200]}")
    return result
