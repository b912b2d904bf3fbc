"""Shared fixtures: a built warehouse (dbt build into a temporary DuckDB file) and project copies."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).parent / "dbt")
PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "expectations", "tests/dbt", "trained_models")


@dataclass
class Warehouse:
    """A dbt project directory building into its own DuckDB file."""

    project_dir: Path
    path: Path

    def dbt(self, *args: str, vars: dict[str, Any] | None = None, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [DBT, *args, "--project-dir", str(self.project_dir), "--profiles-dir", str(self.project_dir)]
        if vars:
            cmd += ["--vars", json.dumps(vars)]
        env = dict(os.environ)
        env.update(
            MRS_DUCKDB_PATH=str(self.path),
            DBT_TARGET_PATH=str(self.path.parent / "target"),
            DBT_LOG_PATH=str(self.path.parent / "logs"),
            DBT_SEND_ANONYMOUS_USAGE_STATS="false",
            MRS_MARTS_PARQUET_DIR=str(self.published_dir),
        )
        result = subprocess.run(cmd, cwd=self.project_dir, env=env, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
        return result

    @property
    def published_dir(self) -> Path:
        """Where this warehouse's builds publish the Parquet marts (beside the file, not in the project)."""
        return self.path.parent / "published" / "marts"

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.sql(sql).fetchall()

    def scalar(self, sql: str) -> Any:
        return self.query(sql)[0][0]


def copy_project(dest: Path) -> Path:
    """A copy of the dbt project (models, macros, seeds, config) that a test may modify."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        src = PROJECT_ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("uncommitted", "__pycache__"))
        elif src.exists():
            shutil.copy2(src, dest / name)
    return dest


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """The committed project built once with `dbt build` into a temporary DuckDB file. Read only."""
    root = tmp_path_factory.mktemp("built")
    warehouse = Warehouse(project_dir=PROJECT_ROOT, path=root / "mrs.duckdb")
    warehouse.dbt("build")
    return warehouse


@pytest.fixture
def project_copy(tmp_path: Path) -> Warehouse:
    """A private copy of the project with its own DuckDB file, for tests that change things."""
    project = copy_project(tmp_path / "project")
    return Warehouse(project_dir=project, path=tmp_path / "mrs.duckdb")
