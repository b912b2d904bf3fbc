"""The dbt-duckdb plugin of the project (``plugins`` in profiles.yml): before dbt-duckdb first
connects to the warehouse in a dbt invocation, check that no other process holds the file
(:mod:`mrs.warehouse_lock`), so a build started while a reader holds it fails at once, saying what
to do; and open it with ``MRS_DUCKDB_TEMP_DIR`` as its spill directory when that is set.

The spill directory cannot be one of the profile's ``settings``: dbt-duckdb runs them as ``SET`` on
every cursor it opens, and DuckDB refuses ``SET temp_directory`` (even to the same path) while a
query of another thread has spilled into it, which failed every node after the first spill of a
large build. Nor is it a ``config_options`` entry by default: a connection opened with another
configuration than DuckDB's default makes every other in-process ``duckdb.connect`` of the file fail,
and DuckDB's default (the warehouse path + ``.tmp``) is the one wanted."""

from __future__ import annotations

import os
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from mrs.warehouse_lock import WarehouseLockedError, check_writable

TEMP_DIR_VARIABLE = "MRS_DUCKDB_TEMP_DIR"
"""Where DuckDB spills when the buffer pool (``memory_limit``) is full; unset: DuckDB's default."""


def _invocation_id() -> str | None:
    try:
        from dbt_common.invocation import get_invocation_id

        return get_invocation_id()
    except Exception:  # pragma: no cover - outside dbt
        return None


class Plugin(BasePlugin):
    """dbt-duckdb plugin: check the warehouse can be written before dbt-duckdb first connects.

    dbt-duckdb reopens the file whenever its last cursor closes; only the first open of each dbt
    invocation is checked, so the check costs one extra open per build, not one per node.
    """

    _checked: set = set()

    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        temp_dir = os.environ.get(TEMP_DIR_VARIABLE)
        if temp_dir:
            config.setdefault("temp_directory", temp_dir)
        path = str(creds.path)
        key = (path, _invocation_id())
        if key in Plugin._checked:
            return
        try:
            check_writable(path, config)
            Plugin._checked.add(key)
        except WarehouseLockedError as exc:
            from dbt_common.exceptions import DbtRuntimeError

            raise DbtRuntimeError(str(exc)) from None
