"""Benchmark: the cost of a build against the bare-DuckDB lower bound, on a simulated Parquet world.

    .venv/bin/python benchmarks/bench_build.py --stores 1000 --skus 100 --days 100   # 10M store-SKU-days

For one world size it

1. simulates the world as Parquet (``mrs simulate --format parquet``);
2. runs ``dbt build`` from scratch (**full**), again on unchanged data (**re-run**), and after a
   new sales day was appended to both retailers' feeds (**new day**, see :func:`append_new_day`);
3. runs ``benchmarks/lower_bound.sql`` in a fresh DuckDB file with the same threads, once before
   each build (interleaved, so the machine's load hits both alike): the same essential work by
   hand (collate and zero-fill the feeds, the rolling and lag features, the same-weekday baseline,
   a residual z-score per pair);
4. prints wall time and peak RSS of each step (the whole process tree: sampled every 50 ms, and
   at least the child's own ``ru_maxrss``), the ratios (full / bound, re-run / full, new day / full),
   per-layer and slowest-node times from ``target/run_results.json``, and the nodes that were
   running when each build's memory peaked (from the same file's timings).

Numbers, not assertions: compare them between changes. ``MRS_DBT_THREADS``, ``MRS_DUCKDB_THREADS``
and ``MRS_DUCKDB_MEMORY_LIMIT`` (profiles.yml) are set from ``--threads`` / ``--memory-limit``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from mrs.simulate.config import SimulationConfig
from mrs.simulate.next_day import FEED_DATE_COLUMNS as FEEDS  # noqa: F401  (tests/test_benchmark.py reads bench_build.FEEDS)
from mrs.simulate.next_day import next_day_rows

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LOWER_BOUND_SQL = Path(__file__).with_name("lower_bound.sql")

SCORING_DAYS = 35
"""``vars.baseline_scoring_days``: the days the lower bound's baseline scores, as the pipeline's."""


# ---- the world and its new day -------------------------------------------------------------------


def world_config(stores: int, skus: int, days: int, seed: int) -> SimulationConfig:
    """The world ``mrs simulate --stores … --skus … --days …`` writes."""
    return SimulationConfig(seed=seed, n_stores=stores, n_skus=skus).with_days(days)


def append_new_day(world_dir: Path, config: SimulationConfig) -> tuple[str, dict[str, int]]:
    """Append the next sales day to the world's two feed files (streamed: the old rows are copied
    row group by row group, the new day's rows written last, the file replaced atomically).
    Returns the new day and the rows appended per feed."""
    day, rows = next_day_rows(config)
    new_day = day.isoformat()
    for name, table in rows.items():
        path = world_dir / f"{name}.parquet"
        tmp = path.with_name(path.name + ".tmp")
        old = pq.ParquetFile(path)
        with pq.ParquetWriter(tmp, old.schema_arrow, compression="zstd") as writer:
            for group in range(old.num_row_groups):
                writer.write_table(old.read_row_group(group))
            writer.write_table(table.cast(old.schema_arrow))
        os.replace(tmp, path)
    return new_day, {name: table.num_rows for name, table in rows.items()}


# ---- running a step and measuring it -------------------------------------------------------------


def _tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants (from /proc)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


@dataclass
class Step:
    label: str
    seconds: float
    peak_rss_bytes: int
    stdout: str = field(repr=False, default="")
    returncode: int = 0
    #: when the sampled peak was reached (seconds since the epoch; None when only ru_maxrss saw it)
    peak_at: float | None = None

    @property
    def note(self) -> str:
        """Empty for a green step; for a red build, how many nodes failed and were skipped."""
        if self.returncode == 0:
            return ""
        done = [line for line in self.stdout.splitlines() if "Done. PASS=" in line]
        return f" (red: exit {self.returncode}{', ' + done[-1].split('Done. ')[-1] if done else ''})"


def run_step(label: str, cmd: list[str], env: dict[str, str], cwd: Path = ROOT, *, check: bool = True) -> Step:
    """Run a command, sampling its process tree's RSS. On failure: exit with its output, or with
    ``check=False`` (a dbt build whose data failed a test) print what failed and go on."""
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak, peak_at, done = [0], [None], threading.Event()

    def sample() -> None:
        while not done.is_set():
            rss = _tree_rss_bytes(proc.pid)
            if rss > peak[0]:
                peak[0], peak_at[0] = rss, time.time()
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - began
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    sampled = peak[0] >= usage.ru_maxrss * 1024
    step = Step(label, seconds, max(peak[0], usage.ru_maxrss * 1024), output, proc.returncode, peak_at[0] if sampled else None)
    # the machine's load over the last minute and five minutes: other work inflates every time
    load = "/".join(f"{v:.1f}" for v in os.getloadavg()[:2])
    print(f"{label:<34} {seconds:8.1f} s   peak RSS {step.peak_rss_bytes / 2**30:6.2f} GiB   load {load}{step.note}", flush=True)
    if proc.returncode != 0:
        failures = [line.strip() for line in output.splitlines() if "Failure in" in line or "Great Expectations: suite" in line]
        if check or not failures:
            print(output[-6000:])
            sys.exit(f"{label} failed with exit code {proc.returncode}")
        print("  " + "\n  ".join(failures))
    return step


LOWER_BOUND_RUNNER = """
import pathlib, sys
import duckdb
db, sql_file, threads, memory_limit = sys.argv[1:5]
pathlib.Path(db).unlink(missing_ok=True)
with duckdb.connect(db, config={"threads": int(threads), "memory_limit": memory_limit}) as con:
    con.execute(pathlib.Path(sql_file).read_text())
"""
"""The lower bound runs in its own process (like dbt), so its time and memory are measured alike."""


def lower_bound_command(world: Path, db: Path, config: SimulationConfig, threads: int, memory_limit: str) -> list[str]:
    """Write lower_bound.sql for this world next to ``db``; the command that runs it into ``db``."""
    sql = LOWER_BOUND_SQL.read_text().format(
        world=world, window_start=config.window_start, window_end=config.window_end, scoring_days=SCORING_DAYS
    )
    sql_file = db.with_suffix(".sql")
    sql_file.write_text(sql)
    return [sys.executable, "-c", LOWER_BOUND_RUNNER, str(db), str(sql_file), str(threads), memory_limit]


# ---- what the builds did -------------------------------------------------------------------------


def node_times(target: Path) -> tuple[dict[str, float], list[tuple[str, float]]]:
    """Seconds per layer (staging, intermediate, ml, marts, seeds, tests) and per node, from the
    last invocation's run_results.json (node times add up to more than the wall time with threads)."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    manifest = json.loads((target / "manifest.json").read_text())
    nodes = {**manifest.get("nodes", {}), **manifest.get("sources", {})}
    layers: dict[str, float] = {}
    per_node = []
    for result in results:
        uid, seconds = result["unique_id"], float(result.get("execution_time") or 0.0)
        node = nodes.get(uid, {})
        kind = node.get("resource_type") or uid.split(".")[0]
        if kind == "model":
            path = Path(node.get("original_file_path", "models/other"))
            layer = path.parts[1] if len(path.parts) > 2 else "models"
        else:
            layer = {"test": "tests", "seed": "seeds"}.get(kind, kind)
        layers[layer] = layers.get(layer, 0.0) + seconds
        per_node.append((uid.split(".", 2)[-1] if kind != "test" else uid.split(".")[2], seconds))
    return layers, sorted(per_node, key=lambda item: -item[1])


def print_node_times(label: str, target: Path, top: int) -> None:
    layers, per_node = node_times(target)
    total = sum(layers.values())
    print(f"\n{label}: node seconds per layer (sum {total:.1f} s)")
    for layer, seconds in sorted(layers.items(), key=lambda item: -item[1]):
        print(f"  {layer:<16} {seconds:8.1f} s  {seconds / total:5.0%}" if total else f"  {layer:<16} {seconds:8.1f} s")
    print("  slowest nodes: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in per_node[:top]))


def nodes_running_at(target: Path, moment: float) -> list[str]:
    """The nodes of the last invocation's run_results.json that were running at ``moment`` (seconds
    since the epoch): from the start of their first timing phase to the end of their last."""
    running = []
    for result in json.loads((target / "run_results.json").read_text())["results"]:
        phases = [t for t in result.get("timing") or [] if t.get("started_at") and t.get("completed_at")]
        if not phases:
            continue
        began = min(datetime.fromisoformat(t["started_at"]).timestamp() for t in phases)
        ended = max(datetime.fromisoformat(t["completed_at"]).timestamp() for t in phases)
        if began <= moment <= ended:
            running.append(result["unique_id"].split(".")[2])
    return running


def print_peak(step: Step, target: Path) -> None:
    """Which nodes were running when the build's memory peaked: where to look when it grows."""
    if step.peak_at is None:
        where = "between samples, by one process (its ru_maxrss): no node to name"
    else:
        moment = datetime.fromtimestamp(step.peak_at, tz=UTC).strftime("%H:%M:%S")
        running = ", ".join(nodes_running_at(target, step.peak_at)) or "no node (parse or start-up)"
        where = f"at {moment} UTC, while running: {running}"
    print(f"  peak RSS {step.peak_rss_bytes / 2**30:.2f} GiB {where}")


def log_rows(db: Path) -> dict[str, int]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        names = con.sql(
            "select table_schema || '.' || table_name from information_schema.tables where table_schema = 'ml' order by 1"
        ).fetchall()
        return {name: con.sql(f"select count(*) from {name}").fetchall()[0][0] for (name,) in names}


# ---- the benchmark -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", type=int, default=100)
    parser.add_argument("--skus", type=int, default=100)
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mrs-bench"))
    parser.add_argument("--threads", type=int, default=2, help="dbt and DuckDB threads, for the builds and the bound")
    parser.add_argument(
        "--memory-limit",
        default=os.environ.get("MRS_DUCKDB_MEMORY_LIMIT", "3GB"),
        help="DuckDB memory_limit, for the builds and the bound",
    )
    parser.add_argument("--top", type=int, default=8, help="slowest nodes to list per build")
    parser.add_argument(
        "--no-dbt",
        action="store_true",
        help="only simulate, append the new day and run the lower bound (a smoke test of the script)",
    )
    args = parser.parse_args(argv)

    config = world_config(args.stores, args.skus, args.days, args.seed)
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    world, db, target = args.workdir / "world", args.workdir / "mrs.duckdb", args.workdir / "target"
    bound_db = args.workdir / "lower_bound.duckdb"
    new_day = config.end_date + timedelta(days=1)
    env = dict(
        os.environ,
        MRS_DUCKDB_PATH=str(db),
        DBT_TARGET_PATH=str(target),
        DBT_LOG_PATH=str(args.workdir / "logs"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        MRS_DBT_THREADS=str(args.threads),
        MRS_DUCKDB_THREADS=str(args.threads),
        MRS_DUCKDB_MEMORY_LIMIT=args.memory_limit,
    )
    cells = args.stores * args.skus * args.days
    print(
        f"world: {args.stores} stores x {args.skus} SKUs x {args.days} days = {cells:,} store-SKU-days "
        f"(seed {args.seed}); threads {args.threads}, memory_limit {args.memory_limit}",
        flush=True,
    )

    run_step(
        "simulate (parquet)",
        [
            str(BIN / "mrs"),
            "simulate",
            "--no-progress",
            "--format",
            "parquet",
            "--out",
            str(world),
            "--seed",
            str(args.seed),
            "--stores",
            str(args.stores),
            "--skus",
            str(args.skus),
            "--days",
            str(args.days),
        ],
        env,
    )
    # the declared sales range covers the day the benchmark appends: the same vars for every build
    dbt = [
        str(BIN / "dbt"),
        "build",
        "--project-dir",
        str(ROOT),
        "--profiles-dir",
        str(ROOT),
        "--vars",
        json.dumps({"raw_parquet_dir": str(world), "sales_end_date": new_day.isoformat()}),
    ]

    def lower_bound(label: str) -> Step:
        return run_step(label, lower_bound_command(world, bound_db, config, args.threads, args.memory_limit), env)

    if args.no_dbt:
        lower_bound("lower bound (DuckDB SQL)")
        day, appended = append_new_day(world, config)
        print(f"appended {day}: " + ", ".join(f"{name} +{n:,} rows" for name, n in appended.items()))
        lower_bound("lower bound (DuckDB SQL), new day")
        return 0

    bounds = [lower_bound("lower bound (DuckDB SQL) #1")]
    full = run_step("dbt build (from scratch)", dbt, env, check=False)
    print_node_times("full build", target, args.top)
    print_peak(full, target)
    rows_full = log_rows(db)
    bounds.append(lower_bound("lower bound (DuckDB SQL) #2"))
    rerun = run_step("dbt build (unchanged data)", dbt, env, check=False)
    print_node_times("re-run", target, args.top)
    print_peak(rerun, target)
    rows_rerun = log_rows(db)
    began = time.perf_counter()
    day, appended = append_new_day(world, config)
    print(
        f"{'append ' + day + ' to the feeds':<34} {time.perf_counter() - began:8.1f} s   "
        + ", ".join(f"{name} +{n:,} rows" for name, n in appended.items()),
        flush=True,
    )
    bounds.append(lower_bound("lower bound (DuckDB SQL) #3"))
    newday = run_step("dbt build (one new day)", dbt, env, check=False)
    print_node_times("new-day build", target, args.top)
    print_peak(newday, target)
    rows_newday = log_rows(db)

    bound = statistics.median(b.seconds for b in bounds)
    bound_rss = max(b.peak_rss_bytes for b in bounds)
    print("\nrows appended to the ml logs: full / re-run / new day")
    for name, n in rows_newday.items():
        print(
            f"  {name:<44} {rows_full.get(name, 0):>12,} {rows_rerun.get(name, 0) - rows_full.get(name, 0):>10,} "
            f"{n - rows_rerun.get(name, 0):>10,}"
        )
    print(
        "\n| world (store x SKU x days) | full build | re-run, unchanged data | one new sales day | lower bound (median of 3) |"
    )
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| {args.stores:,} x {args.skus:,} x {args.days:,} = {cells / 1e6:.1f}M "
        f"| {full.seconds:.0f} s{full.note}, peak RSS {full.peak_rss_bytes / 2**30:.1f} GiB, "
        f"{full.seconds / bound:.1f}x the bound "
        f"| {rerun.seconds:.0f} s ({rerun.seconds / full.seconds:.0%} of full){rerun.note}, "
        f"{rerun.peak_rss_bytes / 2**30:.1f} GiB "
        f"| {newday.seconds:.0f} s ({newday.seconds / full.seconds:.0%} of full){newday.note}, "
        f"{newday.peak_rss_bytes / 2**30:.1f} GiB "
        f"| {bound:.1f} s, peak RSS {bound_rss / 2**30:.1f} GiB |"
    )
    print(f"\nwarehouse file: {db.stat().st_size / 1e6:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
