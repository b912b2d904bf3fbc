"""Publishing the validated marts as Parquet (mrs.publish): atomic, only what passed, stamped."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mrs.logs import RunContext
from mrs.publish import PUBLISH_DIR_ENV, PublishError, publish_dir, publish_marts, read_metadata, write_mart

_CON = duckdb.connect()


def _table(n: int) -> duckdb.DuckDBPyRelation:
    """A mart of ``n`` rows as the warehouse relation the validation step publishes from."""
    return _CON.from_arrow(pa.table({"product_id": [f"P{i:04d}" for i in range(n)], "hype_score": [float(i) for i in range(n)]}))


def test_a_mart_is_written_whole_with_its_build_in_the_metadata(tmp_path: Path) -> None:
    path = tmp_path / "marts" / "product_insights.parquet"
    write_mart(_table(3), path, mart="product_insights", run=RunContext("run-1"))
    assert pq.read_table(path).num_rows == 3
    assert read_metadata(path) == {"mart": "product_insights", "run_id": "run-1", "rows": "3"}
    assert [p.name for p in path.parent.iterdir()] == ["product_insights.parquet"]  # no temporary left


def test_the_new_version_replaces_the_old_one_by_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.parquet"
    write_mart(_table(2), path, mart="m", run=RunContext("run-1"))
    renames: list[tuple[str, str]] = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (renames.append((Path(a).name, Path(b).name)), real_replace(a, b)))
    write_mart(_table(5), path, mart="m", run=RunContext("run-2"))
    assert renames == [(".m.parquet.run-2.tmp", "m.parquet")]
    assert pq.read_table(path).num_rows == 5 and read_metadata(path)["run_id"] == "run-2"


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "m.parquet"
    write_mart(_table(2), path, mart="m", run=RunContext("run-1"))

    class Boom(Exception):
        pass

    from mrs import publish

    def failing(tmp: Path) -> None:
        tmp.write_bytes(b"PAR1 partial")
        raise Boom()

    with pytest.raises(Boom):
        publish.replace_atomically(path, failing, "run-2")
    assert pq.read_table(path).num_rows == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.parquet"]


def test_only_marts_that_passed_their_validation_are_published(tmp_path: Path) -> None:
    write_mart(_table(1), tmp_path / "minority_reports.parquet", mart="minority_reports", run=RunContext("old"))
    published = publish_marts(
        {"product_insights": _table(4), "minority_reports": _table(9)},
        {"product_insights": True, "minority_reports": False},
        tmp_path,
        RunContext("new"),
    )
    assert [p.mart for p in published] == ["product_insights"]
    assert read_metadata(tmp_path / "minority_reports.parquet")["run_id"] == "old"  # the failed mart keeps its file
    manifest = json.loads((tmp_path / "_published.json").read_text())
    assert manifest["run_id"] == "new" and manifest["not_published"] == ["minority_reports"]
    # the manifest lists what the folder holds: the new file, and the failed mart's previous one
    assert {m["mart"]: (m["rows"], m["run_id"]) for m in manifest["marts"]} == {
        "product_insights": (4, "new"),
        "minority_reports": (1, "old"),
    }


def test_a_mart_left_unchanged_keeps_its_file_and_a_missing_one_is_written(tmp_path: Path) -> None:
    write_mart(_table(2), tmp_path / "product_insights.parquet", mart="product_insights", run=RunContext("old"))
    published = publish_marts({"product_insights": _table(2), "model_versions": _table(3)}, {}, tmp_path, RunContext("new"))
    assert [p.mart for p in published] == ["model_versions"]
    assert read_metadata(tmp_path / "product_insights.parquet")["run_id"] == "old"


def test_the_environment_variable_overrides_the_var_and_relative_paths_follow_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PUBLISH_DIR_ENV, raising=False)
    assert publish_dir("published/marts", tmp_path) == tmp_path / "published" / "marts"
    monkeypatch.setenv(PUBLISH_DIR_ENV, str(tmp_path / "bi"))
    assert publish_dir("published/marts", "/elsewhere") == tmp_path / "bi"
    monkeypatch.delenv(PUBLISH_DIR_ENV)
    with pytest.raises(PublishError, match="marts_parquet_dir"):
        publish_dir("", tmp_path)
