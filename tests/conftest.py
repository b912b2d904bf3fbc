"""Shared fixtures: a built warehouse (dbt build into a temporary DuckDB file), project copies and a
Postgres server (the second engine of issue 14)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import duckdb
import psycopg2
import pytest

from mrs.quality.settings import SQL_MIN_ROWS_ENV

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import SparkSession

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).parent / "dbt")
PROJECT_FILES = (
    "dbt_project.yml",
    "profiles.yml",
    "models",
    "macros",
    "src/mrs/sql",
    "vendor",
    "seeds",
    "expectations",
    "tests/dbt",
    "trained_models",
)


#: the modules that take longest, longest first (measured by `--durations` on CI's two workers):
#: `make test` hands whole modules to its parallel workers in this order (--no-loadscope-reorder),
#: so that no long module is left to run last
LONGEST_MODULES = (
    "test_readme.py",
    "test_own_data_dbt.py",
    "test_lifecycle_dbt.py",
    "test_kill_recover.py",
    "test_minority_dbt.py",
    "test_bi_interfaces_dbt.py",
    "test_spark_engine.py",
    "test_foundation_dbt.py",
    "test_minority_v1_dbt.py",
    "test_insights_dbt.py",
    "test_benchmark.py",
    "test_postgres_engine.py",
    "test_incremental_features_dbt.py",
    "test_bad_input_corpus.py",
    "test_insights_service.py",
    "test_expectations_dbt.py",
    "test_build_cost_dbt.py",
    "test_bad_input_quarantine.py",
    "test_insights_lifecycle_dbt.py",
    "test_parquet_world.py",
)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Prints the figures a test recorded as the user property `engine_comparison`
    (tests/test_postgres_engine.py, tests/test_spark_engine.py), so they appear in CI's output, with or without -s or xdist."""
    for reports in terminalreporter.stats.values():
        for report in reports:
            for name, text in getattr(report, "user_properties", ()) or ():
                if name == "engine_comparison" and getattr(report, "when", "") == "call":
                    terminalreporter.write_sep("-", report.nodeid)
                    terminalreporter.write_line(str(text))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_MODULES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


SQL_VALIDATION_ENV = {SQL_MIN_ROWS_ENV: "0"}
"""How the tests' builds validate their batches unless a test asks for Great Expectations: every suite
compiled to SQL (mrs.quality.sql_expectations), as a user's build does for batches of 100k rows and
more. Great Expectations on pandas - what a user's build does for smaller batches, with Data Docs -
costs a demo build about 15 of its 60 s (the import, a checkpoint per batch, four Data Docs renders);
the two give the same outcome for every expectation type the suites use
(tests/test_expectations_sql.py). Builds that run Great Expectations: `built_warehouse` (and so every
`prebuilt` copy's first state), tests marked `great_expectations`, and every command of the README
(tests/test_readme.py), the kill-and-recover builds and the benchmark, which run dbt themselves."""


@dataclass
class Warehouse:
    """A dbt project directory building into its own DuckDB file.

    ``great_expectations``: its builds validate small batches with Great Expectations, as a user's
    build does; otherwise with the suites compiled to SQL (``SQL_VALIDATION_ENV``)."""

    project_dir: Path
    path: Path
    great_expectations: bool = False

    def dbt(
        self, *args: str, vars: dict[str, Any] | None = None, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        """Runs dbt in the project on this warehouse; `env` adds variables (e.g. MRS_PG_* for `--target postgres`)."""
        cmd = [DBT, *args, "--project-dir", str(self.project_dir), "--profiles-dir", str(self.project_dir)]
        if vars:
            cmd += ["--vars", json.dumps(vars)]
        run_env = dict(os.environ)
        run_env.update(
            MRS_DUCKDB_PATH=str(self.path),
            DBT_TARGET_PATH=str(self.path.parent / "target"),
            DBT_LOG_PATH=str(self.path.parent / "logs"),
            DBT_SEND_ANONYMOUS_USAGE_STATS="false",
            MRS_MARTS_PARQUET_DIR=str(self.published_dir),
        )
        if not self.great_expectations:
            run_env.update(SQL_VALIDATION_ENV)
        run_env.update(env or {})
        result = subprocess.run(cmd, cwd=self.project_dir, env=run_env, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(
                f"dbt {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
            )
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


def load_script(relative_path: str) -> ModuleType:
    """A script of the repository (e.g. ``benchmarks/kill_recover.py``) imported as a module."""
    path = PROJECT_ROOT / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # dataclasses of the script resolve their module by name
    spec.loader.exec_module(module)
    return module


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
    """The committed project built once with `dbt build` into a temporary DuckDB file. Read only.

    It builds in its own copy of the project, so that its Great Expectations results and Data Docs
    (written under the project's expectations/) are its own, whatever else runs beside it."""
    root = tmp_path_factory.mktemp("built")
    warehouse = Warehouse(project_dir=copy_project(root / "project"), path=root / "mrs.duckdb", great_expectations=True)
    warehouse.dbt("build")
    return warehouse


@pytest.fixture
def project_copy(tmp_path: Path, request: pytest.FixtureRequest) -> Warehouse:
    """A private copy of the project with its own DuckDB file, for tests that change things.

    A test marked `prebuilt` gets the file (and the published marts) of `built_warehouse`: the
    state after a plain `dbt build` of the committed project, for tests whose first step would be
    that build. It saves a full build per test."""
    project = copy_project(tmp_path / "project")
    warehouse = Warehouse(
        project_dir=project,
        path=tmp_path / "mrs.duckdb",
        great_expectations=request.node.get_closest_marker("great_expectations") is not None,
    )
    if request.node.get_closest_marker("prebuilt"):
        built = request.getfixturevalue("built_warehouse")
        shutil.copyfile(built.path, warehouse.path)
        if built.published_dir.exists():
            shutil.copytree(built.published_dir, warehouse.published_dir)
    return warehouse


PG_ENV = ("MRS_PG_HOST", "MRS_PG_PORT", "MRS_PG_USER", "MRS_PG_DBNAME")


@pytest.fixture(scope="module")
def postgres() -> Iterator[dict[str, str]]:
    """Where Postgres listens (MRS_PG_*): the one `.ci/run` started, else one started here (and
    stopped after the module). A Postgres that cannot start fails the test - it never skips."""
    if os.environ.get("MRS_PG_HOST"):
        yield {name: os.environ[name] for name in PG_ENV if name in os.environ}
        return
    script = PROJECT_ROOT / "scripts" / "postgres_local.sh"
    started = subprocess.run([str(script), "start"], capture_output=True, text=True)
    if started.returncode != 0:
        pytest.fail(f"could not start a local Postgres ({script} start):\n{started.stdout}\n{started.stderr}")
    env = dict(line.removeprefix("export ").split("=", 1) for line in started.stdout.splitlines() if line.startswith("export "))
    try:
        yield env
    finally:
        subprocess.run([str(script), "stop"], env={**os.environ, **env}, check=False)


@contextmanager
def fresh_postgres_database(postgres: dict[str, str]) -> Iterator[dict[str, str]]:
    """A new database on that server (dropped afterwards), as MRS_PG_* variables."""
    name = f"mrs_engine_{uuid.uuid4().hex[:8]}"
    admin = postgres_connect(postgres)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"create database {name}")
    try:
        yield {**postgres, "MRS_PG_DBNAME": name}
    finally:
        with admin.cursor() as cur:
            cur.execute(f"drop database if exists {name} with (force)")
        admin.close()


def postgres_connect(env: dict[str, str]) -> Any:
    """A psycopg2 connection to the database of MRS_PG_* variables."""
    return psycopg2.connect(
        host=env["MRS_PG_HOST"],
        port=int(env.get("MRS_PG_PORT", "5432")),
        user=env.get("MRS_PG_USER", "postgres"),
        dbname=env.get("MRS_PG_DBNAME", "mrs"),
    )


SPARK_PARTITIONS = 4
"""The shuffle partitions of the local Spark session."""


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    """A local pyspark session (two cores, UTC, Arrow transfers), stopped after the module."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("mrs-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(SPARK_PARTITIONS))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    try:
        yield session
    finally:
        session.stop()
