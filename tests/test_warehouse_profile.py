"""The warehouse profile (profiles.yml's DuckDB output) opened the way dbt-duckdb opens it.

dbt-duckdb applies ``settings`` with ``SET`` on every cursor it opens (one per model, test and
thread) and ``config_options`` once, when it opens the database. DuckDB refuses to set
``temp_directory`` while spilled data is in it, even to the same path, so a build that spilled in
one thread failed every node that opened a cursor afterwards (a 10M store × SKU × day build went
red this way). These tests open the rendered profile with dbt-duckdb's own environment code.
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
"""About 480 MB: far above the test's memory limit, so its blocks go to the temporary directory."""


def duckdb_credentials(env: dict[str, str]) -> DuckDBCredentials:
    """The default target of the repository's profiles.yml, rendered by dbt under ``env``."""
    raw = yaml.safe_load((project_root() / "profiles.yml").read_text())["mrs"]
    set_invocation_context({**os.environ, **env})  # what dbt's env_var() reads
    output = ProfileRenderer({}).render_data(raw["outputs"][raw["target"]])
    output.pop("type")
    output.pop("threads")
    output.pop("plugins", None)  # the lock check: tested in test_warehouse_lock
    return DuckDBCredentials.from_dict(output)


@pytest.fixture
def credentials(tmp_path: Path) -> DuckDBCredentials:
    return duckdb_credentials({"MRS_DUCKDB_PATH": str(tmp_path / "mrs.duckdb"), "MRS_DUCKDB_MEMORY_LIMIT": "64MB"})


def test_a_new_cursor_opens_while_another_query_has_spilled(credentials: DuckDBCredentials, tmp_path: Path) -> None:
    con = Environment.initialize_db(credentials)
    first = Environment.initialize_cursor(credentials, con.cursor())
    first.execute(SPILL)
    temp_dir = tmp_path / "mrs.duckdb.tmp"
    assert any(temp_dir.iterdir()), "the query did not spill: the test would not exercise the rule"
    second = Environment.initialize_cursor(credentials, con.cursor())
    assert second.execute("select current_setting('temp_directory'), current_setting('memory_limit')").fetchall() == [
        (str(temp_dir), "61.0 MiB")
    ]
    con.close()


def test_duckdb_refuses_a_temp_directory_set_again_per_cursor_after_a_spill(tmp_path: Path) -> None:
    """Why temp_directory is a config option: the same SET that dbt-duckdb runs for ``settings``."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    set_temp = f"set temp_directory = '{tmp_path / 'w.duckdb.tmp'}'"
    first = con.cursor()
    first.execute(set_temp)
    first.execute("set memory_limit = '64MB'")
    first.execute(SPILL)
    with pytest.raises(duckdb.NotImplementedException, match="Cannot switch temporary directory"):
        con.cursor().execute(set_temp)
    con.close()
