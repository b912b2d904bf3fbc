"""Publish every validated mart as Parquet, for BI tools and pandas to read while a build runs.

A DuckDB file has one writer or many readers, so a BI tool connected to the warehouse blocks
every build and a build blocks the BI tool. The marts are therefore also written as one Parquet
file per mart, ``<publish dir>/<mart>.parquet``, by ``mart_validations`` once the mart has passed
its Great Expectations suite:

* each file is written to a temporary name in the same folder, flushed to disk, and renamed over
  the previous one with :func:`os.replace` (atomic on POSIX and Windows), so a reader opens either
  the previous complete file or the new complete one, never a partial one;
* a mart that failed its suite is not published: its previous file stays;
* every file carries its publishing build in its Parquet key-value metadata (``mrs.run_id``,
  ``mrs.mart``, ``mrs.rows``), and ``_published.json`` (replaced the same way, after the files)
  lists what the latest build published.

The folder is ``$MRS_MARTS_PARQUET_DIR`` when set, else ``vars.marts_parquet_dir`` (default
``published/marts``, gitignored); a relative path is relative to the dbt project.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from mrs.duckdb_relations import query_relation
from mrs.logs import RunContext

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

PUBLISH_DIR_ENV = "MRS_MARTS_PARQUET_DIR"
MANIFEST_NAME = "_published.json"
METADATA_PREFIX = "mrs."


@dataclass(frozen=True)
class PublishedMart:
    """One mart file as a build published it."""

    mart: str
    path: str
    rows: int
    run_id: str


class PublishError(ValueError):
    """No folder to publish the marts to."""


def publish_dir(configured: str | os.PathLike[str] | None, project_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the marts go: ``$MRS_MARTS_PARQUET_DIR``, else ``configured`` (vars.marts_parquet_dir);
    a relative path is relative to the dbt project (``project_dir``, default the working directory)."""
    chosen = os.environ.get(PUBLISH_DIR_ENV) or configured
    if not chosen:
        raise PublishError(
            f"no folder for the Parquet marts: set vars.marts_parquet_dir in dbt_project.yml or ${PUBLISH_DIR_ENV}"
        )
    return Path(project_dir or ".") / Path(chosen).expanduser()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - directories cannot be fsynced on some platforms
        pass
    finally:
        os.close(fd)


def replace_atomically(path: Path, write: Callable[[Path], None], run_id: str) -> None:
    """Write ``path`` through ``write(temporary path)`` and rename it into place in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{run_id}.tmp")
    try:
        write(temporary)
        _fsync(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    _fsync(path.parent)


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def write_mart(relation: duckdb.DuckDBPyRelation, path: Path, *, mart: str, run: RunContext) -> PublishedMart:
    """One mart as ``path``, atomically, written by DuckDB straight from the warehouse relation (the
    mart never passes through Python); its build and row count in the file's metadata."""
    rows = int(relation.aggregate("count(*)").fetchall()[0][0])
    metadata = {"mart": mart, "run_id": run.run_id, "rows": str(rows)}
    kv = ", ".join(f"{_sql_string(METADATA_PREFIX + k)}: {_sql_string(v)}" for k, v in metadata.items())

    def copy(tmp: Path) -> None:
        query_relation(
            relation,
            "mrs_mart",
            f"copy (select * from mrs_mart) to {_sql_string(str(tmp))} (format parquet, kv_metadata {{{kv}}})",
        ).fetchall()

    replace_atomically(path, copy, run.run_id)
    return PublishedMart(mart=mart, path=str(path), rows=rows, run_id=run.run_id)


def publish_marts(
    relations: Mapping[str, duckdb.DuckDBPyRelation],
    validated: Mapping[str, bool],
    directory: Path,
    run: RunContext,
) -> list[PublishedMart]:
    """Write each mart that passed its validation in this build (``validated``: mart → success);
    leave the file of one that failed as it was. A mart this build did not validate (unchanged since
    its latest passed validation) keeps its file, and is written only when the file is missing.
    Then replace ``_published.json`` with what the folder now holds."""
    from mrs.step_log import timed_step

    with timed_step(f"publish marts as Parquet to {directory}") as counts:
        due = {
            mart: relation
            for mart, relation in relations.items()
            if validated.get(mart) or (mart not in validated and not (directory / f"{mart}.parquet").exists())
        }
        published = [write_mart(relation, directory / f"{mart}.parquet", mart=mart, run=run) for mart, relation in due.items()]
        counts.rows_new = sum(p.rows for p in published)
        counts.detail = f"{len(published)} of {len(relations)} marts written"
    held = [
        PublishedMart(mart=mart, path=str(path), rows=int(meta.get("rows", 0)), run_id=meta.get("run_id", ""))
        for mart in relations
        if (path := directory / f"{mart}.parquet").exists() and (meta := read_metadata(path))
    ]
    manifest = {
        "run_id": run.run_id,
        "published_at": run.scored_at.isoformat(),
        "marts": [asdict(p) for p in held],
        "not_published": sorted(m for m, ok in validated.items() if not ok),
    }

    def write_manifest(tmp: Path) -> None:
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    replace_atomically(directory / MANIFEST_NAME, write_manifest, run.run_id)
    return published


def read_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The ``mrs.*`` metadata of a published mart file (``mart``, ``run_id``, ``rows``)."""
    raw = pq.read_schema(path).metadata or {}
    return {
        key.decode()[len(METADATA_PREFIX) :]: value.decode()
        for key, value in raw.items()
        if key.decode().startswith(METADATA_PREFIX)
    }
