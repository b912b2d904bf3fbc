"""Benchmark: simulate a large world as Parquet, `dbt build` on it twice, print the numbers.

    .venv/bin/python benchmarks/bench_build.py --stores 2000 --skus 100 --days 120

Prints wall time and peak memory of each step, the rows of the main tables, and what the second
(incremental) build appended. Numbers, not assertions: compare them between changes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(label: str, cmd: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{label:<28} {seconds:8.1f} s   peak RSS so far {peak_mb:8.0f} MB   exit {result.returncode}")
    if result.returncode != 0:
        print(result.stdout[-4000:], result.stderr[-2000:], sep="\n")
        sys.exit(result.returncode)
    return seconds


def table_rows(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = con.sql(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('intermediate', 'ml', 'marts') order by 1"
        ).fetchall()
        return {name: con.sql(f"select count(*) from {name}").fetchall()[0][0] for (name,) in names}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", type=int, default=2000)
    parser.add_argument("--skus", type=int, default=100)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mrs-bench"))
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: the profile's)")
    args = parser.parse_args()

    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    world, db = args.workdir / "world", args.workdir / "mrs.duckdb"
    env = dict(
        os.environ,
        MRS_DUCKDB_PATH=str(db),
        DBT_TARGET_PATH=str(args.workdir / "target"),
        DBT_LOG_PATH=str(args.workdir / "logs"),
    )
    print(f"world: {args.stores} stores x {args.skus} SKUs x {args.days} days "
          f"= {args.stores * args.skus * args.days:,} store-SKU-days (seed {args.seed})")
    run("simulate (parquet)", [str(BIN / "mrs"), "simulate", "--no-progress", "--format", "parquet",
                               "--out", str(world), "--seed", str(args.seed), "--stores", str(args.stores),
                               "--skus", str(args.skus), "--days", str(args.days)], env)
    dbt = [str(BIN / "dbt"), "build", "--vars", json.dumps({"raw_parquet_dir": str(world)})]
    if args.threads:
        dbt += ["--threads", str(args.threads)]
    run("dbt build (from scratch)", dbt, env)
    before = table_rows(db)
    run("dbt build (again, no new data)", dbt, env)
    after = table_rows(db)
    print(f"\n{'table':<52} {'rows':>14} {'appended by 2nd build':>22}")
    for name, rows in after.items():
        print(f"{name:<52} {rows:>14,} {rows - before.get(name, 0):>22,}")
    print(f"\nwarehouse file: {db.stat().st_size / 1e6:,.0f} MB")


if __name__ == "__main__":
    main()
