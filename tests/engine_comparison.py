"""The comparison of a second engine's warehouse with DuckDB's (issue 14), shared by
tests/test_postgres_engine.py and tests/test_spark_engine.py: both engines build the same selection
from the committed seeds, then, model by model, they must hold the same rows - row counts exactly;
every text, integer, date, timestamp and boolean column exactly; every floating-point or decimal
column (and each element of an array of them) within ``ABS_TOL + REL_TOL * |DuckDB's value|``
(one unit of the 6th decimal in product_insight_inputs, which rounds to 6 decimals)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb
from conftest import Warehouse

SELECTION = ("--exclude", "path:models/ml/**/*.py+")
"""What runs on every engine: every node not downstream of a Python model."""
REL_TOL = 1e-9
ABS_TOL = 1e-9
"""A float matches when |DuckDB - other| <= ABS_TOL + REL_TOL * |DuckDB|: the engines may add a
window's values in another order (last bits), nothing more."""
ROUNDED_ABS_TOL = {"product_insight_inputs": 1e-6 + 1e-12}
"""Models whose floats are rounded to 6 decimals (round_float): a value within 1e-13 of a half
(x.xxxxxx5) may round either way on two engines (DuckDB rounds the double, Postgres rounds it
through numeric), so it may differ by one unit of the 6th decimal; every such cell is counted."""
ENGINE_SPECIFIC_COLUMNS = {
    # a digest of the reference tables built with each engine's own row hash (rows_digest:
    # DuckDB's hash(), Spark's xxhash64, md5 elsewhere); it only has to change when they change, on one engine
    "int_sales_features": {"reference_fingerprint"},
}
FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL", "DECIMAL")

RowReader = Callable[[str, str, list[str]], list[tuple]]
"""The other engine's rows of `schema.table`, in the given columns (DuckDB's names)."""


def build_selection(duck: Warehouse, other: Warehouse, target: str, env: dict[str, str]) -> None:
    """The selection built on DuckDB and on the other engine (`--target`, with `env`) at once."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = [
            pool.submit(duck.dbt, "build", *SELECTION),
            pool.submit(other.dbt, "build", "--target", target, *SELECTION, env=env),
        ]
        for future in done:
            future.result()


def built_relations(warehouse: Warehouse) -> dict[str, str]:
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


def value(v: Any) -> Any:
    """One comparable Python value per cell, whichever driver read it."""
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, (list, tuple)):
        return tuple(value(x) for x in v)
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


def compare_with_duckdb(duck: Warehouse, relations: dict[str, str], engine: str, read_rows: RowReader) -> tuple[str, list[str]]:
    """Every relation of DuckDB's build against the other engine's (`read_rows`): the report (models
    compared, rows, the largest absolute difference per float column) and the problems found."""
    lines = [
        f"engine comparison (DuckDB vs {engine}, demo world, tolerance {ABS_TOL:g} + {REL_TOL:g} x |value|;"
        f" rounded models {ROUNDED_ABS_TOL}):"
    ]
    problems: list[str] = []
    compared_rows = float_columns_total = 0
    with duckdb.connect(str(duck.path), read_only=True) as dcon:
        for name, relation in sorted(relations.items()):
            schema, table = relation.split(".")
            columns = dcon.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()
            names = [c for c, _ in columns if c not in ENGINE_SPECIFIC_COLUMNS.get(name, set())]
            floats = {c for c, t in columns if t.upper().startswith(FLOAT_TYPES)}  # DOUBLE[] too: element-wise
            select = "select {} from " + f"{schema}.{table}"
            duck_rows = [
                tuple(value(v) for v in r) for r in dcon.execute(select.format(", ".join(f'"{c}"' for c in names))).fetchall()
            ]
            other_rows = [tuple(value(v) for v in r) for r in read_rows(schema, table, names)]
            if len(duck_rows) != len(other_rows):
                problems.append(f"{name}: {len(duck_rows)} rows on DuckDB, {len(other_rows)} on {engine}")
                lines.append(f"  {name}: rows DuckDB {len(duck_rows)} != {engine} {len(other_rows)}")
                continue
            order = [i for i, c in enumerate(names) if c not in floats] + [i for i, c in enumerate(names) if c in floats]
            duck_rows.sort(key=lambda r: _sort_key(r, order))
            other_rows.sort(key=lambda r: _sort_key(r, order))
            max_diff = {c: 0.0 for c in names if c in floats}
            exact_mismatches = float_cells_differing = 0
            for drow, orow in zip(duck_rows, other_rows, strict=True):
                for i, column in enumerate(names):
                    a, b = drow[i], orow[i]
                    if column in floats:
                        diff = _float_diff(a, b)
                        if diff is not None and diff > ABS_TOL:
                            float_cells_differing += 1
                        if diff is None or not _within_tolerance(a, b, diff, ROUNDED_ABS_TOL.get(name)):
                            problems.append(f"{name}.{column}: DuckDB {a!r} vs {engine} {b!r}")
                        if diff is not None:
                            max_diff[column] = max(max_diff[column], diff)
                    elif a != b:
                        exact_mismatches += 1
                        if exact_mismatches <= 3:
                            problems.append(f"{name}.{column}: DuckDB {a!r} vs {engine} {b!r} (exact column)")
            compared_rows += len(duck_rows)
            float_columns_total += len(max_diff)
            lines.append(
                f"  {name}: {len(duck_rows)} rows on both; {len(names) - len(max_diff)} exact columns equal"
                + (f"; {float_cells_differing} float cells differ by more than {ABS_TOL:g}" if float_cells_differing else "")
                + (f"; {exact_mismatches} cells differ" if exact_mismatches else "")
                + (", max |diff| " + ", ".join(f"{c} {d:.3g}" for c, d in max_diff.items()) if max_diff else "")
            )
    lines.append(
        f"  {len(relations)} models and seeds, {compared_rows} rows per engine,"
        f" {float_columns_total} float columns compared;"
        f" excluded as engine-specific: {sorted((m, c) for m, cs in ENGINE_SPECIFIC_COLUMNS.items() for c in cs)}"
    )
    return "\n".join(lines), problems
