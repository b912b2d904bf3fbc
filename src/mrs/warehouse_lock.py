"""A build that finds the warehouse file locked by a reader fails at once, saying what to do.

A DuckDB file takes one writer or many readers. When a BI tool, a notebook or the ``duckdb`` CLI
holds ``mrs.duckdb`` open, dbt-duckdb's ``duckdb.connect`` raises ``IO Error: Could not set lock
on file … Conflicting lock is held in …``. That happens in
``dbt.adapters.duckdb.environments.Environment.initialize_db``, the first time the build needs a
connection (and whenever it reopens the file); the only hook dbt-duckdb calls before it is a
plugin's ``update_connection_config``: :mod:`mrs.dbt_duckdb_plugin` (``plugins`` in profiles.yml)
calls :func:`check_writable`, which opens the file for writing once, closes it, and turns a lock
conflict into an error that names the file and the holder and says what to do. This module does
not import dbt, so ``python -m mrs.warehouse_lock`` (the first step of ``make build``) is quick.
"""

from __future__ import annotations

from typing import Any

import duckdb

LOCK_MARKERS = ("could not set lock", "conflicting lock")
IN_MEMORY = (":memory:", "")


class WarehouseLockedError(RuntimeError):
    """The warehouse file is held open by another process."""


def is_lock_conflict(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(marker in text for marker in LOCK_MARKERS)


def locked_message(path: str, detail: str) -> str:
    return (
        f"the warehouse file {path} is open in another process, so this build cannot write it "
        f"(DuckDB: {detail.strip()}). A DuckDB file takes one writer or many readers. "
        "What to do: close the program that holds it (a BI tool or notebook connected to it, the duckdb CLI, "
        "a `mrs` command still running), then run the build again. BI tools and pandas should read the "
        "Parquet copies of the marts (vars.marts_parquet_dir, default published/marts/), which every build "
        "replaces atomically, and open the warehouse only between builds, read-only."
    )


def check_writable(path: str, config: dict[str, Any] | None = None) -> None:
    """Open ``path`` for writing and close it again; a lock conflict raises
    :class:`WarehouseLockedError` with :func:`locked_message`. Other errors pass through unchanged
    (dbt's own connect reports them)."""
    if path in IN_MEMORY or path.startswith(("md:", "motherduck:")):
        return
    try:
        duckdb.connect(path, read_only=False, config=dict(config or {})).close()
    except duckdb.Error as exc:
        if is_lock_conflict(exc):
            raise WarehouseLockedError(locked_message(path, str(exc))) from None
        return


def main(argv: list[str] | None = None) -> int:
    """``python -m mrs.warehouse_lock [PATH]``: the same check before ``dbt build`` starts (``make
    build`` runs it, so a locked file fails in a second, before dbt parses the project)."""
    import sys

    from mrs.cli_options import default_warehouse

    args = sys.argv[1:] if argv is None else argv
    path = args[0] if args else str(default_warehouse())
    try:
        check_writable(path)
    except WarehouseLockedError as exc:
        print(f"mrs: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
