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
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import PROJECT_ROOT, Warehouse, copy_project, fresh_postgres_database, postgres_connect

pytestmark = pytest.mark.integration

SELECTION = ("--exclude", "path:models/ml/**/*.py+")
"""What runs on both engines: every node not downstream of a Python model."""
REL_TOL = 1e-9
ABS_TOL = 1e-9
"""A float matches when |DuckDB - Postgres| <= ABS_TOL + REL_TOL * |DuckDB|: the engines may add a
window's values in another order (last bits), nothing more."""
ROUNDED_ABS_TOL = {"product_insight_inputs": 1e-6 + 1e-12}
"""Models whose floats are rounded to 6 decimals (round_float): a value within 1e-13 of a half
(x.xxxxxx5) may round either way on the two engines (DuckDB rounds the double, Postgres rounds it
through numeric), so it may differ by one unit of the 6th decimal; every such cell is counted."""
ENGINE_SPECIFIC_COLUMNS = {
    # a digest of the reference tables built with each engine's own row hash (rows_digest:
    # DuckDB's hash(), md5 elsewhere); it only has to change when they change, on one engine
    "int_sales_features": {"reference_fingerprint"},
}
FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL", "DECIMAL")


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
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = [
            pool.submit(duck.dbt, "build", *SELECTION),
            pool.submit(pg.dbt, "build", "--target", "postgres", *SELECTION, env=postgres_database),
        ]
        for future in done:
            future.result()
    return duck, pg


def _built_relations(warehouse: Warehouse) -> dict[str, str]:
    """`name -> schema.alias` of every seed and table or view model the build ran (run_results)."""

    target = warehouse.path.parent / "target"
    manifest = json.loads((target / "manifest.json").read_text())
    results = json.loads((target / "run_results.json").read_text())["results"]
    relations = {}
    for result in results:
        node = manifest["nodes"].get(result["unique_id"])
        if node and node["resource_type"] in ("seed", "model") and node["config"]["materialized"] != "ephemeral":
            assert result["status"] == "success", (result["unique_id"], result["status"])
            relations[node["name"]] = f"{node['schema']}.{node['alias']}"
    return relations


def _value(v: Any) -> Any:
    """One comparable Python value per cell, whichever driver read it."""
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, (list, tuple)):
        return tuple(_value(x) for x in v)
    if isinstance(v, datetime) and v.tzinfo is not None:
        return v.replace(tzinfo=None)
    return v


def _sort_key(row: tuple, order: list[int]) -> tuple:
    def key(v: Any) -> tuple:
        if v is None:
            return (0, "")
        if isinstance(v, float):
            return (1, "nan" if math.isnan(v) else f"{v:.6e}")
        if isinstance(v, (date, datetime)):
            return (1, v.isoformat())
        return (1, str(v))

    return tuple(key(row[i]) for i in order)


def _float_diff(a: Any, b: Any) -> float | None:
    """|a - b| for two floats (or arrays of them, element-wise max); None when they do not match in kind."""
    if a is None or b is None:
        return 0.0 if a is b else None
    if isinstance(a, tuple) or isinstance(b, tuple):
        if not (isinstance(a, tuple) and isinstance(b, tuple)) or len(a) != len(b):
            return None
        diffs = [_float_diff(x, y) for x, y in zip(a, b, strict=True)]
        return None if any(d is None for d in diffs) else max([d for d in diffs if d is not None], default=0.0)
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return 0.0 if math.isnan(a) and math.isnan(b) else None
    return abs(a - b)


def _within_tolerance(a: Any, b: Any, diff: float, rounded_tol: float | None = None) -> bool:
    scale = max((abs(float(x)) for x in (a if isinstance(a, tuple) else (a,)) if x is not None), default=0.0)
    return diff <= ABS_TOL + REL_TOL * scale or (rounded_tol is not None and diff <= rounded_tol)


def test_postgres_builds_what_duckdb_builds(
    builds: tuple[Warehouse, Warehouse], postgres_database: dict[str, str], request: pytest.FixtureRequest
) -> None:
    duck, pg = builds
    duck_relations, pg_relations = _built_relations(duck), _built_relations(pg)
    assert duck_relations == pg_relations
    assert {"int_sales_features", "unified_sales_data", "int_price_windows", "stg_northmart__sales", "sales_coastco"} <= set(
        duck_relations
    )

    lines = [
        f"engine comparison (DuckDB vs Postgres, demo world, tolerance {ABS_TOL:g} + {REL_TOL:g} x |value|;"
        f" rounded models {ROUNDED_ABS_TOL}):"
    ]
    problems: list[str] = []
    compared_rows = float_columns_total = 0
    with duckdb.connect(str(duck.path), read_only=True) as dcon, postgres_connect(postgres_database) as pcon:
        for name, relation in sorted(duck_relations.items()):
            schema, table = relation.split(".")
            columns = dcon.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()
            names = [c for c, _ in columns if c not in ENGINE_SPECIFIC_COLUMNS.get(name, set())]
            floats = {c for c, t in columns if t.upper().startswith(FLOAT_TYPES)}  # DOUBLE[] too: element-wise
            # Postgres folds the unquoted upper-case names of a feed (coastco's STORE_NBR) to lower case
            select = "select {} from " + f"{schema}.{table}"
            duck_rows = [
                tuple(_value(v) for v in r) for r in dcon.execute(select.format(", ".join(f'"{c}"' for c in names))).fetchall()
            ]
            with pcon.cursor() as cur:
                cur.execute(select.format(", ".join(f'"{c.lower()}"' for c in names)))
                pg_rows = [tuple(_value(v) for v in r) for r in cur.fetchall()]
            if len(duck_rows) != len(pg_rows):
                problems.append(f"{name}: {len(duck_rows)} rows on DuckDB, {len(pg_rows)} on Postgres")
                lines.append(f"  {name}: rows DuckDB {len(duck_rows)} != Postgres {len(pg_rows)}")
                continue
            order = [i for i, c in enumerate(names) if c not in floats] + [i for i, c in enumerate(names) if c in floats]
            duck_rows.sort(key=lambda r: _sort_key(r, order))
            pg_rows.sort(key=lambda r: _sort_key(r, order))
            max_diff = {c: 0.0 for c in names if c in floats}
            exact_mismatches = float_cells_differing = 0
            for drow, prow in zip(duck_rows, pg_rows, strict=True):
                for i, column in enumerate(names):
                    a, b = drow[i], prow[i]
                    if column in floats:
                        diff = _float_diff(a, b)
                        if diff is not None and diff > ABS_TOL:
                            float_cells_differing += 1
                        if diff is None or not _within_tolerance(a, b, diff, ROUNDED_ABS_TOL.get(name)):
                            problems.append(f"{name}.{column}: DuckDB {a!r} vs Postgres {b!r}")
                        if diff is not None:
                            max_diff[column] = max(max_diff[column], diff)
                    elif a != b:
                        exact_mismatches += 1
                        if exact_mismatches <= 3:
                            problems.append(f"{name}.{column}: DuckDB {a!r} vs Postgres {b!r} (exact column)")
            compared_rows += len(duck_rows)
            float_columns_total += len(max_diff)
            lines.append(
                f"  {name}: {len(duck_rows)} rows on both; {len(names) - len(max_diff)} exact columns equal"
                + (f"; {float_cells_differing} float cells differ by more than {ABS_TOL:g}" if float_cells_differing else "")
                + (f"; {exact_mismatches} cells differ" if exact_mismatches else "")
                + (", max |diff| " + ", ".join(f"{c} {d:.3g}" for c, d in max_diff.items()) if max_diff else "")
            )
    lines.append(
        f"  {len(duck_relations)} models and seeds, {compared_rows} rows per engine,"
        f" {float_columns_total} float columns compared;"
        f" excluded as engine-specific: {sorted((m, c) for m, cs in ENGINE_SPECIFIC_COLUMNS.items() for c in cs)}"
    )
    report = "\n".join(lines)
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
    relation = _built_relations(duck)["unified_sales_data"]
    config = baseline_config("0")
    with duckdb.connect(str(duck.path), read_only=True) as dcon:
        window = AnomalyWindow.resolve(None, None, dcon.table(_built_relations(duck)["stg_narratives__narratives"]))
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
