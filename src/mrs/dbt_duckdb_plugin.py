"""The dbt-duckdb plugin of the project (``plugins`` in profiles.yml): before dbt-duckdb first
connects to the warehouse in a dbt invocation, check that no other process holds the file
(:mod:`mrs.warehouse_lock`), so a build started while a reader holds it fails at once, saying what to do."""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from mrs.warehouse_lock import WarehouseLockedError, check_writable


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
