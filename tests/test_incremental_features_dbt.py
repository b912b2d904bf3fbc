"""Incremental feature tables on the demo world: the built demo warehouse, built again once the next
sales day has reached the retailer feeds, recomputes only that day and holds the same feature
tables and log rows as the same warehouse rebuilt from scratch (`--full-refresh`, which keeps the
logs) on the same data; and a late correction of an old day recomputes the periods it reaches,
giving what a full rebuild gives."""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest
from conftest import Warehouse, copy_project
from test_own_data_dbt import INFERENCE_LOGS

from mrs.logs import PER_RUN_COLUMNS
from mrs.simulate.config import SimulationConfig
from mrs.simulate.next_day import next_day_rows

pytestmark = pytest.mark.integration

FEATURE_TABLES = ("unified_sales_data", "int_sales_features")
LOOKBACK_DAYS = 28
"""int_sales_features' longest look-back at daily grain (feature_lookback_periods)."""


FEED_DATE_COLUMN = {"sales_northmart": 2, "sales_coastco": 2}
"""The position of each demo feed's date column (northmart: 2025-05-09; coastco: "20250505")."""


def _feed_lines(project: Path, feed: str) -> tuple[str, list[tuple[date, str]]]:
    """A demo feed's header line and its data lines with their dates (fields hold no commas)."""
    header, *lines = (project / "seeds" / f"{feed}.csv").read_text().splitlines()
    dated = []
    for line in lines:
        day = line.split(",")[FEED_DATE_COLUMN[feed]].strip('"').replace("-", "")
        dated.append((date(int(day[:4]), int(day[4:6]), int(day[6:])), line))
    return header, dated


def _write_feed(project: Path, feed: str, header: str, lines: list[str]) -> None:
    (project / "seeds" / f"{feed}.csv").write_text("\n".join([header, *lines]) + "\n")


def _append_next_day(project: Path, rows: dict[str, pa.Table]) -> None:
    for feed, table in rows.items():
        buffer = io.BytesIO()
        pa_csv.write_csv(table, buffer, pa_csv.WriteOptions(include_header=False))
        with (project / "seeds" / f"{feed}.csv").open("ab") as handle:
            handle.write(buffer.getvalue())


SENTINELS = {
    "unified_sales_data": ("revenue", "is_zero_filled"),
    "int_sales_features": ("rolling_mean_7d", "true"),
}
"""Per feature table: a column outside its period digest, and the rows a sentinel is put in."""


def _build_rewriting(warehouse: Warehouse) -> dict[str, list[date]]:
    """Builds the feature tables (and what they read; no tests) and returns the periods each one
    rewrote: a sentinel (-1) put in a column its period digest leaves out is gone from exactly
    those periods. The sentinels left are then set back to the values they replaced."""
    with duckdb.connect(str(warehouse.path)) as con:
        con.sql("create schema if not exists sentinel")
        for table, (column, rows) in SENTINELS.items():
            con.sql(
                f"create or replace table sentinel.{table} as select store_id, sku_id, sales_date, {column} "
                f"from intermediate.{table} where {rows}"
            )
            con.sql(f"update intermediate.{table} set {column} = -1 where {rows}")
    warehouse.dbt("build", "--select", "+int_sales_features", "--exclude-resource-type", "test")
    rewritten = {}
    with duckdb.connect(str(warehouse.path)) as con:
        for table, (column, rows) in SENTINELS.items():
            rewritten[table] = [
                day
                for (day,) in con.sql(
                    f"select distinct sales_date from intermediate.{table} where {rows} "
                    f"and {column} is distinct from -1 order by 1"
                ).fetchall()
            ]
            con.sql(
                f"update intermediate.{table} as t set {column} = s.{column} from sentinel.{table} as s "
                f"where t.{column} = -1 and s.store_id = t.store_id and s.sku_id = t.sku_id and s.sales_date = t.sales_date"
            )
        con.sql("drop schema sentinel cascade")
    return rewritten


@dataclass
class IncrementalWarehouse:
    warehouse: Warehouse
    full_refresh: Warehouse
    new_day: date
    second_build: str
    rewritten_on_new_day: dict[str, list[date]]


def _demo_warehouse_with_the_next_day(root: Path, built: Warehouse, rows: dict[str, pa.Table]) -> Warehouse:
    """A copy of the built demo warehouse (and its published marts) whose project's retailer feeds
    now hold the next sales day."""
    root.mkdir(parents=True)
    shutil.copy(built.path, root / "mrs.duckdb")
    warehouse = Warehouse(project_dir=copy_project(root / "project"), path=root / "mrs.duckdb")
    shutil.copytree(built.published_dir, warehouse.published_dir)
    _append_next_day(warehouse.project_dir, rows)
    return warehouse


@pytest.fixture(scope="module")
def incremental(tmp_path_factory: pytest.TempPathFactory, built_warehouse: Warehouse) -> IncrementalWarehouse:
    root = tmp_path_factory.mktemp("incremental")
    new_day, rows = next_day_rows(SimulationConfig())  # the day after the demo world's last
    warehouse = _demo_warehouse_with_the_next_day(root / "incremental", built_warehouse, rows)
    rewritten = _build_rewriting(warehouse)
    warehouse.dbt("build")  # the rest of the DAG (the feature tables are up to date: nothing to recompute)
    results = json.loads((warehouse.path.parent / "target" / "run_results.json").read_text())
    # the same history and data, every table rebuilt from scratch (--full-refresh keeps the logs)
    full = _demo_warehouse_with_the_next_day(root / "full_refresh", built_warehouse, rows)
    full.dbt("build", "--full-refresh")
    return IncrementalWarehouse(warehouse, full, new_day, results["metadata"]["invocation_id"], rewritten)


def _attached(**warehouses: Warehouse) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name, warehouse in warehouses.items():
        con.sql(f"attach '{warehouse.path}' as {name} (read_only)")
    return con


def _difference(con: duckdb.DuckDBPyConnection, left: str, right: str, exclude: tuple[str, ...] = ()) -> int:
    """Rows of `left` not in `right` (as multisets), columns in `exclude` left out."""
    columns = f"* exclude ({', '.join(exclude)})" if exclude else "*"
    return con.sql(f"select count(*) from (select {columns} from {left} except all select {columns} from {right})").fetchall()[0][
        0
    ]


def test_a_new_day_recomputes_only_that_day(incremental: IncrementalWarehouse) -> None:
    assert incremental.rewritten_on_new_day == {table: [incremental.new_day] for table in FEATURE_TABLES}


def test_incremental_feature_tables_equal_a_rebuild_from_scratch_row_for_row(incremental: IncrementalWarehouse) -> None:
    con = _attached(inc=incremental.warehouse, scratch=incremental.full_refresh)
    for table in FEATURE_TABLES:
        rows = con.sql(f"select count(*) from scratch.intermediate.{table}").fetchall()[0][0]
        assert con.sql(f"select count(*) from inc.intermediate.{table}").fetchall()[0][0] == rows, table
        assert _difference(con, f"inc.intermediate.{table}", f"scratch.intermediate.{table}") == 0, table
        assert _difference(con, f"scratch.intermediate.{table}", f"inc.intermediate.{table}") == 0, table


def test_incremental_logs_equal_those_of_a_build_from_scratch_on_the_same_history(incremental: IncrementalWarehouse) -> None:
    con = _attached(inc=incremental.warehouse, scratch=incremental.full_refresh)
    for log in INFERENCE_LOGS:
        assert _difference(con, f"inc.ml.{log}", f"scratch.ml.{log}", PER_RUN_COLUMNS) == 0, log
        assert _difference(con, f"scratch.ml.{log}", f"inc.ml.{log}", PER_RUN_COLUMNS) == 0, log
    appended_baseline = con.sql(
        f"select count(*) from inc.ml.baseline_log where run_id = '{incremental.second_build}' "
        f"and sales_date = date '{incremental.new_day}'"
    ).fetchall()[0][0]
    assert appended_baseline > 0


def test_a_late_correction_recomputes_the_periods_it_reaches_as_a_full_rebuild_would(incremental: IncrementalWarehouse) -> None:
    warehouse = incremental.warehouse
    corrected_day = incremental.new_day - timedelta(days=40)
    header, lines = _feed_lines(warehouse.project_dir, "sales_northmart")
    position = next(i for i, (day, _) in enumerate(lines) if day == corrected_day)
    fields = lines[position][1].split(",")
    fields[3] = str(int(float(fields[3])) + 7)  # units
    _write_feed(
        warehouse.project_dir,
        "sales_northmart",
        header,
        [",".join(fields) if i == position else line for i, (_, line) in enumerate(lines)],
    )
    rewritten = _build_rewriting(warehouse)
    # the corrected day in unified_sales_data; it and the 28 days its windows reach in the features
    assert rewritten == {
        "unified_sales_data": [corrected_day],
        "int_sales_features": [corrected_day + timedelta(days=n) for n in range(LOOKBACK_DAYS + 1)],
    }
    units_on = f"select sum(units_sold) from intermediate.unified_sales_data where sales_date = date '{corrected_day}'"
    assert warehouse.scalar(units_on) == incremental.full_refresh.scalar(units_on) + 7
    with duckdb.connect(str(warehouse.path)) as con:
        con.sql("create schema if not exists incremental_copy")
        for table in FEATURE_TABLES:
            con.sql(f"create table incremental_copy.{table} as select * from intermediate.{table}")
    warehouse.dbt("run", "--full-refresh", "--select", *FEATURE_TABLES)
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        for table in FEATURE_TABLES:
            assert _difference(con, f"incremental_copy.{table}", f"intermediate.{table}") == 0, table
            assert _difference(con, f"intermediate.{table}", f"incremental_copy.{table}") == 0, table
