"""The second engine (issue 14): the demo world built on PostgreSQL gives what DuckDB gives.

Both engines build the same selection from the committed seeds - seeds, staging, checked,
intermediate features, the runners' input view and the SQL marts with every data and unit test on
the way (`dbt build --exclude "path:models/ml/**/*.py+"`: everything not downstream of a Python
model, which runs on DuckDB here). Then, model by model, the two warehouses must hold the same
rows: row counts exactly; every text, integer, date, timestamp and boolean column exactly; every
floating-point or decimal column (and each element of an array of them) within
``ABS_TOL + REL_TOL * |DuckDB's value|`` (one unit of the 6th decimal in product_insight_inputs,
which rounds to 6 decimals). The figures (models compared, rows, the largest absolute difference
per float column) are printed in the terminal summary of every run, CI's included.

Postgres is the one `scripts/postgres_local.sh` runs on a unix socket: `.ci/run` starts it and
exports MRS_PG_*; without them the test starts (and stops) its own (conftest's `postgres` fixture).
A Postgres that cannot start fails the test - it never skips. Each run builds into a fresh
database, dropped afterwards.
Raw tables on Postgres are the seeds, loaded by `dbt seed` (the demo world's default,
`vars.raw_tables: seed`), or tables loaded into the database beforehand (`schema.table`; the second
test loads one with COPY); reading raw files is DuckDB's (macros/source.sql).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT_ROOT, Warehouse, copy_project, fresh_postgres_database, postgres_connect
from engine_comparison import build_selection, built_relations, compare_with_duckdb

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def postgres_database(postgres: dict[str, str]) -> Iterator[dict[str, str]]:
    """This module's database for the two builds."""
    with fresh_postgres_database(postgres) as env:
        yield env


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory, postgres_database: dict[str, str]) -> tuple[Warehouse, Warehouse]:
    """The selection built on DuckDB and on Postgres at once, each in its own copy of the project."""
    root = tmp_path_factory.mktemp("engines")
    duck = Warehouse(project_dir=copy_project(root / "duckdb" / "project"), path=root / "duckdb" / "mrs.duckdb")
    pg = Warehouse(project_dir=copy_project(root / "postgres" / "project"), path=root / "postgres" / "unused.duckdb")
    build_selection(duck, pg, "postgres", postgres_database)
    return duck, pg


def test_postgres_builds_what_duckdb_builds(
    builds: tuple[Warehouse, Warehouse], postgres_database: dict[str, str], request: pytest.FixtureRequest
) -> None:
    duck, pg = builds
    duck_relations, pg_relations = built_relations(duck), built_relations(pg)
    assert duck_relations == pg_relations
    assert {"int_sales_features", "unified_sales_data", "int_price_windows", "stg_northmart__sales", "sales_coastco"} <= set(
        duck_relations
    )

    with postgres_connect(postgres_database) as pcon:

        def read_rows(schema: str, table: str, names: list[str]) -> list[tuple]:
            # Postgres folds the unquoted upper-case names of a feed (coastco's STORE_NBR) to lower case
            columns = ", ".join(f'"{c.lower()}"' for c in names)
            with pcon.cursor() as cur:
                cur.execute(f"select {columns} from {schema}.{table}")
                return cur.fetchall()

        report, problems = compare_with_duckdb(duck, duck_relations, "Postgres", read_rows)
    print(report)
    request.node.user_properties.append(("engine_comparison", report))
    assert not problems, "\n".join(problems[:40])


def test_postgres_reads_a_raw_table_loaded_into_the_warehouse(
    builds: tuple[Warehouse, Warehouse], postgres: dict[str, str], tmp_path: Path
) -> None:
    """`vars.raw_tables: {prices: landing.prices}`: a raw table loaded into Postgres beforehand
    (here by COPY from the demo world's CSV, as text columns in another order) is read by name and
    cast to its declared types, and staging gives DuckDB's rows exactly."""
    duck, _ = builds
    with fresh_postgres_database(postgres) as env:
        with postgres_connect(env) as con, con.cursor() as cur:
            cur.execute("create schema landing")
            cur.execute("create table landing.prices (price text, observed_on text, retailer text, product_id text)")
            with (PROJECT_ROOT / "seeds" / "prices.csv").open() as csv_file:
                cur.copy_expert(
                    "copy landing.prices (product_id, retailer, observed_on, price) from stdin with (format csv, header)",
                    csv_file,
                )
        pg = Warehouse(project_dir=copy_project(tmp_path / "project"), path=tmp_path / "unused.duckdb")
        pg.dbt(
            "run",
            "--target",
            "postgres",
            "--select",
            "stg_price_tracker__prices",
            vars={"raw_tables": {"prices": "landing.prices"}},
            env=env,
        )
        with postgres_connect(env) as con, con.cursor() as cur:
            cur.execute("select product_id, retailer, observed_on, price from staging.stg_price_tracker__prices")
            pg_rows = sorted(cur.fetchall())
    with duckdb.connect(str(duck.path), read_only=True) as dcon:
        duck_rows = sorted(
            dcon.execute("select product_id, retailer, observed_on, price from staging.stg_price_tracker__prices").fetchall()
        )
    assert len(pg_rows) == len(duck_rows) > 5000
    assert pg_rows == duck_rows


def test_the_baseline_inputs_run_on_postgres_and_give_duckdb_rows(
    builds: tuple[Warehouse, Warehouse], postgres_database: dict[str, str], request: pytest.FixtureRequest
) -> None:
    """The heuristic baseline's inputs (the baseline_inputs macro, src/mrs/sql/baseline_rules.sql)
    in their portable spelling over Postgres's unified_sales_data give, row for row, what the DuckDB
    spelling gives over DuckDB's: the SQL half of the baseline stage ports; only the window median
    is Postgres's own (mrs_median, created by the engine_functions macro at run start)."""
    from mrs.minority.baseline import baseline_config, baseline_inputs_sql
    from mrs.minority.config import AnomalyWindow, BaselineScoring
    from mrs.minority.relations import sql_over

    duck, _ = builds
    relation = built_relations(duck)["unified_sales_data"]
    config = baseline_config("0")
    with duckdb.connect(str(duck.path), read_only=True) as dcon:
        window = AnomalyWindow.resolve(None, None, dcon.table(built_relations(duck)["stg_narratives__narratives"]))
        scoring = BaselineScoring(window, 35)
        duck_rows = sql_over(dcon, {"sales": dcon.table(relation)}, baseline_inputs_sql(config, scoring)).fetchall()
    schema = postgres_database.get("MRS_PG_SCHEMA", "main")
    portable = baseline_inputs_sql(config, scoring, engine="postgres", median_function=f"{schema}.mrs_median")
    with postgres_connect(postgres_database) as pcon, pcon.cursor() as cur:
        cur.execute(f"with sales as (select * from {relation}) select * from ({portable}) as inputs")
        pg_rows = cur.fetchall()
    assert window is not None and len(duck_rows) > 1000
    assert sorted(pg_rows) == sorted(duck_rows)
    report = f"baseline inputs on Postgres (portable spelling): {len(pg_rows)} rows, equal to DuckDB's"
    print(report)
    request.node.user_properties.append(("engine_comparison", report))


def test_nan_and_infinite_numbers_are_not_finite_on_postgres(
    builds: tuple[Warehouse, Warehouse], postgres_database: dict[str, str]
) -> None:
    """`is_finite` (the checked layer's revenue_finite quarantine rule and the finite_number test) on
    Postgres: NaN equals itself there, so the rule must not read "finite" as `x = x`."""
    _, pg = builds
    inline = (
        "select x, {{ is_finite('x') }} as finite from (values (cast('NaN' as double precision)),"
        " (cast('Infinity' as double precision)), (cast('-Infinity' as double precision)), (1.5), (0.0), (-2.0)) as t(x)"
    )
    compiled = json.loads(
        pg.dbt("compile", "--target", "postgres", "--inline", inline, "--output", "json", "--quiet", env=postgres_database).stdout
    )["compiled"]
    with postgres_connect(postgres_database) as con, con.cursor() as cur:
        cur.execute(compiled)
        finite = {str(x): ok for x, ok in cur.fetchall()}
    assert finite == {"nan": False, "inf": False, "-inf": False, "1.5": True, "0.0": True, "-2.0": True}
