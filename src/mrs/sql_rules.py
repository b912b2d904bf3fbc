"""The log rules' SQL, rendered from the dbt macros that the models use (one home for both).

``src/mrs/sql/log_rules.sql`` defines the macros ``row_hash`` and ``current_log_rows``; dbt reads it
through ``macro-paths`` and the Python stages render the same macros here with plain Jinja, so a log
id or a log's current rows cannot mean one thing in a mart and another in a stage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

RULES_FILE = Path(__file__).resolve().parent / "sql" / "log_rules.sql"
"""The macros file, shared with dbt (``macro-paths`` in dbt_project.yml)."""

ENGINE = "duckdb"
"""The engine the Python stages run their SQL on (dbt-duckdb runs them in the dbt process)."""


@cache
def _macros() -> Any:
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    return environment.from_string(RULES_FILE.read_text()).module


def row_hash_sql(expressions: Sequence[str]) -> str:
    """SQL for the stable md5 over ``expressions`` (nulls are a distinct token, fields separated)."""
    return str(_macros().row_hash(list(expressions))).strip()


def current_log_rows_sql(log: str, key_columns: Sequence[str], versions: Mapping[str, str], engine: str = ENGINE) -> str:
    """SQL (a parenthesised subquery) for the current rows of an append-only log, with its columns:
    the rows written by ``versions`` (``{column: version}``) and, per business key, the newest by
    ``scored_at`` then ``log_id``; spelled for ``engine`` (any other than duckdb: portable SQL)."""
    return str(_macros().current_log_rows(log, list(key_columns), dict(versions), engine)).strip()
