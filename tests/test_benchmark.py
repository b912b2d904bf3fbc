"""benchmarks/bench_build.py: the new sales day it appends goes through both retailers' feeds, and
the script runs on a tiny world (numbers are printed, never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from conftest import PROJECT_ROOT

from mrs.simulate.simulator import write_simulation

sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))
import bench_build  # noqa: E402

TINY = dict(stores=4, skus=6, days=40, seed=3)
SCRIPT = PROJECT_ROOT / "benchmarks" / "bench_build.py"


def test_appending_a_day_adds_only_the_next_day_to_both_feeds_and_keeps_the_history(tmp_path: Path) -> None:
    config = bench_build.world_config(**TINY)
    write_simulation(config, tmp_path, "parquet")
    before = {name: pq.read_table(tmp_path / f"{name}.parquet") for name in bench_build.FEEDS}

    day, appended = bench_build.append_new_day(tmp_path, config)

    assert day == "2025-08-13" and all(n > 0 for n in appended.values())
    after = {name: pq.read_table(tmp_path / f"{name}.parquet") for name in bench_build.FEEDS}
    for name, table in after.items():
        assert table.schema == before[name].schema
        assert table.slice(0, before[name].num_rows).equals(before[name])
        assert table.num_rows == before[name].num_rows + appended[name]
    con = duckdb.connect()
    last_day = con.sql(f"select max(date) from read_parquet('{tmp_path}/sales_northmart.parquet')").fetchall()
    assert last_day == [(date(2025, 8, 13),)]
    new_coastco = after["sales_coastco"].slice(before["sales_coastco"].num_rows)
    assert set(new_coastco.column("TXN_DATE").to_pylist()) == {"20250813"}
    # every new row is a known store and SKU of the world, in the feed's own codes
    stores = pq.read_table(tmp_path / "stores.parquet").to_pylist()
    new_northmart = after["sales_northmart"].slice(before["sales_northmart"].num_rows)
    assert set(new_northmart.column("store_id").to_pylist()) <= {
        s["retailer_store_ref"] for s in stores if s["retailer"] == "northmart"
    }


def test_the_script_simulates_appends_and_runs_the_lower_bound_on_a_tiny_world(tmp_path: Path) -> None:
    args = [f"--{k}={v}" for k, v in TINY.items()]
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--workdir", str(tmp_path / "bench"), "--no-dbt"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "appended 2025-08-13" in result.stdout and result.stdout.count("lower bound (DuckDB SQL)") == 2
    with duckdb.connect(str(tmp_path / "bench" / "lower_bound.duckdb"), read_only=True) as con:
        cells = con.sql("select count(*), max(sales_date) from lb_unified_sales").fetchall()[0]
        assert cells == (4 * 6 * 41, date(2025, 8, 13))
        assert con.sql("select count(*) from lb_residual_z where z_score is not null").fetchall()[0][0] > 0


def test_the_peak_is_attributed_to_the_nodes_running_at_that_moment(tmp_path: Path) -> None:
    def result(name: str, start: str, end: str) -> dict:
        timing = [
            {"name": "compile", "started_at": f"2026-12-07T20:00:{start}Z", "completed_at": f"2026-12-07T20:00:{start}Z"},
            {"name": "execute", "started_at": f"2026-12-07T20:00:{start}Z", "completed_at": f"2026-12-07T20:00:{end}Z"},
        ]
        return {"unique_id": f"model.mrs.{name}", "timing": timing}

    results = [result("baseline_log", "00.000000", "10.000000"), result("detection_log", "08.000000", "20.000000")]
    results.append({"unique_id": "test.mrs.skipped_test.abc", "timing": []})
    (tmp_path / "run_results.json").write_text(json.dumps({"results": results}))
    moment = datetime(2026, 12, 7, 20, 0, tzinfo=UTC).timestamp()
    assert bench_build.nodes_running_at(tmp_path, moment + 5) == ["baseline_log"]
    assert bench_build.nodes_running_at(tmp_path, moment + 9) == ["baseline_log", "detection_log"]
    assert bench_build.nodes_running_at(tmp_path, moment + 25) == []


@pytest.mark.integration
def test_the_benchmark_builds_a_tiny_world_three_times_and_prints_its_table(tmp_path: Path) -> None:
    args = [f"--{k}={v}" for k, v in TINY.items()]
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--workdir", str(tmp_path / "bench")],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    for label in ("dbt build (from scratch)", "dbt build (unchanged data)", "dbt build (one new day)", "node seconds per layer"):
        assert label in result.stdout
    assert "| 4 x 6 x 40 = 0.0M |" in result.stdout
    peaks = [line for line in result.stdout.splitlines() if line.startswith("  peak RSS ")]
    assert len(peaks) == 3, peaks  # each build names what ran at its memory peak
    with duckdb.connect(str(tmp_path / "bench" / "mrs.duckdb"), read_only=True) as con:
        assert con.sql("select max(sales_date) from ml.baseline_log").fetchall() == [(date(2025, 8, 13),)]
