"""SQL rules rendered from the dbt macros that the models use (one home for both).

Each file in ``src/mrs/sql/`` is a dbt macros file (dbt reads the folder through ``macro-paths``);
the Python stages render the same macros here with plain Jinja. ``log_rules.sql`` defines
``row_hash`` and ``current_log_rows``, so a log id or a log's current rows cannot mean one thing in
a mart and another in a stage; ``drift_rules.sql`` the SQL of drift monitoring's distribution
summaries (rendered by :mod:`mrs.lifecycle.drift`); ``baseline_rules.sql`` the heuristic baseline's
inputs; ``engine_rules.sql`` the spellings that differ between engines, which the others call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

SQL_FOLDER = Path(__file__).resolve().parent / "sql"
"""The macros files, shared with dbt (``macro-paths`` in dbt_project.yml)."""

ENGINE = "duckdb"
"""The engine the Python stages run their SQL on (dbt-duckdb runs them in the dbt process)."""


@cache
def macros() -> Any:
    """Every macro of :data:`SQL_FOLDER`, as one Jinja module (call them as attributes). The files
    are rendered together, as dbt reads them: one file's macros may call another's (the engine
    spellings of ``engine_rules.sql`` serve the others)."""
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    source = "\n".join(path.read_text() for path in sorted(SQL_FOLDER.glob("*.sql")))
    return environment.from_string(source).module


def row_hash_sql(expressions: Sequence[str]) -> str:
    """SQL for the stable md5 over ``expressions`` (nulls are a distinct token, fields separated)."""
    return str(macros().row_hash(list(expressions))).strip()


def current_log_rows_sql(log: str, key_columns: Sequence[str], versions: Mapping[str, str], engine: str = ENGINE) -> str:
    """SQL (a parenthesised subquery) for the current rows of an append-only log, with its columns:
    the rows written by ``versions`` (``{column: version}``) and, per business key, the newest by
    ``scored_at`` then ``log_id``; spelled for ``engine`` (any other than duckdb: portable SQL)."""
    return str(macros().current_log_rows(log, list(key_columns), dict(versions), engine)).strip()
