"""SQL rules rendered from the dbt macros that the models use (one home for both).

Each file in ``src/mrs/sql/`` is a dbt macros file (dbt reads the folder through ``macro-paths``);
the Python stages render the same macros here with plain Jinja. ``log_rules.sql`` defines
``row_hash`` and ``current_log_rows``, so a log id or a log's current rows cannot mean one thing in
a mart and another in a stage; ``drift_rules.sql`` the SQL of drift monitoring's distribution
summaries (rendered by :mod:`mrs.lifecycle.drift`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

SQL_FOLDER = Path(__file__).resolve().parent / "sql"
"""The macros files, shared with dbt (``macro-paths`` in dbt_project.yml)."""

RULES_FILE = SQL_FOLDER / "log_rules.sql"

ENGINE = "duckdb"
"""The engine the Python stages run their SQL on (dbt-duckdb runs them in the dbt process)."""


@cache
def macros(file_name: str = RULES_FILE.name) -> Any:
    """The macros of one file of :data:`SQL_FOLDER`, as a Jinja module (call them as attributes)."""
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    return environment.from_string((SQL_FOLDER / file_name).read_text()).module


def row_hash_sql(expressions: Sequence[str]) -> str:
    """SQL for the stable md5 over ``expressions`` (nulls are a distinct token, fields separated)."""
    return str(macros().row_hash(list(expressions))).strip()


def current_log_rows_sql(log: str, key_columns: Sequence[str], versions: Mapping[str, str], engine: str = ENGINE) -> str:
    """SQL (a parenthesised subquery) for the current rows of an append-only log, with its columns:
    the rows written by ``versions`` (``{column: version}``) and, per business key, the newest by
    ``scored_at`` then ``log_id``; spelled for ``engine`` (any other than duckdb: portable SQL)."""
    return str(macros().current_log_rows(log, list(key_columns), dict(versions), engine)).strip()
