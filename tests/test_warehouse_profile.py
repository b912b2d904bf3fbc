"""The warehouse profile (profiles.yml's DuckDB output) opened the way dbt-duckdb opens it.

dbt-duckdb applies the profile's ``settings`` with ``SET`` on every cursor it opens (one per model,
test and thread), and its plugins once, when it opens the database. DuckDB refuses to set
``temp_directory`` while spilled data is in it, even to the same path, so a build that spilled in
one thread failed every node that opened a cursor afterwards (a 10M store × SKU × day build went red
this way). The spill directory is therefore DuckDB's default, or ``MRS_DUCKDB_TEMP_DIR`` applied by
the project's plugin when the warehouse opens. These tests open the rendered profile with
dbt-duckdb's own environment code.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
import yaml
from dbt.adapters.duckdb.credentials import DuckDBCredentials
from dbt.adapters.duckdb.environments import Environment
from dbt.config.renderer import ProfileRenderer
from dbt_common.context import set_invocation_context

from mrs.project import project_root

SPILL = "create temp table spilled as select range as i, random() as r from range(30000000)"
"""About 480 MB: far above the tests' memory limit, so its blocks go to the temporary directory."""


def duckdb_credentials(monkeypatch: pytest.MonkeyPatch, **env: str) -> DuckDBCredentials:
    """The default target of the repository's profiles.yml, rendered by dbt under ``env``."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    set_invocation_context(dict(os.environ))  # what dbt's env_var() reads
    raw = yaml.safe_load((project_root() / "profiles.yml").read_text())["mrs"]
    output = ProfileRenderer({}).render_data(raw["outputs"][raw["target"]])
    for dbt_field in ("type", "threads"):
        output.pop(dbt_field)
    return DuckDBCredentials.from_dict(output)


def open_warehouse(credentials: DuckDBCredentials) -> tuple[duckdb.DuckDBPyConnection, dict]:
    plugins = Environment.initialize_plugins(credentials)
    return Environment.initialize_db(credentials, plugins), plugins


def spill_then_open_a_cursor(credentials: DuckDBCredentials, spill_dir: Path) -> duckdb.DuckDBPyConnection:
    con, plugins = open_warehouse(credentials)
    Environment.initialize_cursor(credentials, con.cursor(), plugins).execute(SPILL)
    assert any(spill_dir.iterdir()), "the query did not spill: the test would not exercise the rule"
    cursor = Environment.initialize_cursor(credentials, con.cursor(), plugins)
    assert cursor.execute("select current_setting('temp_directory')").fetchall() == [(str(spill_dir),)]
    return con


def test_a_new_cursor_opens_while_another_query_has_spilled(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MRS_DUCKDB_TEMP_DIR", raising=False)
    path = tmp_path / "mrs.duckdb"
    credentials = duckdb_credentials(monkeypatch, MRS_DUCKDB_PATH=str(path), MRS_DUCKDB_MEMORY_LIMIT="64MB")
    spill_then_open_a_cursor(credentials, tmp_path / "mrs.duckdb.tmp").close()


def test_the_spill_directory_from_the_environment_is_set_once_when_the_warehouse_opens(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    spill_dir = tmp_path / "spill"
    credentials = duckdb_credentials(
        monkeypatch,
        MRS_DUCKDB_PATH=str(tmp_path / "mrs.duckdb"),
        MRS_DUCKDB_MEMORY_LIMIT="64MB",
        MRS_DUCKDB_TEMP_DIR=str(spill_dir),
    )
    spill_then_open_a_cursor(credentials, spill_dir).close()


def test_a_reader_in_the_same_process_connects_beside_dbt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The tests (and any in-process tool) open the warehouse while dbt-duckdb holds it: DuckDB
    refuses a second connection whose configuration differs, so dbt's must be DuckDB's default."""
    monkeypatch.delenv("MRS_DUCKDB_TEMP_DIR", raising=False)
    path = tmp_path / "mrs.duckdb"
    con, _ = open_warehouse(duckdb_credentials(monkeypatch, MRS_DUCKDB_PATH=str(path)))
    con.execute("create table built as select 1 as x")
    reader = duckdb.connect(str(path))
    assert reader.sql("select x from built").fetchall() == [(1,)]
    reader.close()
    con.close()


def test_duckdb_refuses_a_temp_directory_set_again_per_cursor_after_a_spill(tmp_path: Path) -> None:
    """Why the spill directory is not a profile setting: the same SET that dbt-duckdb runs for them."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    set_temp = f"set temp_directory = '{tmp_path / 'w.duckdb.tmp'}'"
    first = con.cursor()
    first.execute(set_temp)
    first.execute("set memory_limit = '64MB'")
    first.execute(SPILL)
    with pytest.raises(duckdb.NotImplementedException, match="Cannot switch temporary directory"):
        con.cursor().execute(set_temp)
    con.close()
