"""Kill and recover: `dbt build` killed with SIGKILL at random points, then re-run to completion.

    .venv/bin/python benchmarks/kill_recover.py --kills 10 --seed 1

Builds the demo project once without interruption (the reference), then, in a second warehouse,
starts `dbt build` and kills its whole process group with SIGKILL after a random delay (uniform
over the reference build's duration, or up to `--max-delay` seconds), `--kills` times, then runs
one clean `dbt build`. Prints, for every log of the `ml` schema, its rows in both warehouses, the
rows missing from the recovered one (lost), the extra ones (duplicated or left by a killed build) and duplicated `log_id`s, and
checks that `model_activation_log` holds rows of the finished builds only. Rows are compared on
every column except the per-run ones (run ids and timestamps of when a build ran). Exits non-zero
when anything differs.

What is compared: every `*_log` table and each log's validation step (one row per batch
validated), and `expectation_results_log` restricted to log batches. `mart_validations`, the mart
rows of `expectation_results_log` and the validations of `model_activation_log`'s batches record
builds, not data (a killed build that got past the marts validated them; an attempt that finished
before its kill is a finished build): they are not compared, and the activation log is checked on
its own - no row from a build killed before it finished.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import copy_project  # noqa: E402  (the project copy the integration tests make)

PER_RUN_COLUMNS = frozenset(
    {
        "run_id",
        "batch_run_id",
        "scored_at",
        "registered_at",
        "recorded_at",
        "activated_at",
        "finished_at",
        "validated_at",
        "data_docs_page",
        "result_id",
        "validation_id",
    }
)
"""Columns that say which build wrote a row and when: metadata, never compared."""

BUILD_RECORDS = ("mart_validations", "model_activation_log")
"""Tables with one row per build (not per datum); checked separately."""


RECORD_HOOK_DONE = "OK hook: mrs.on-run-end.0"
"""What dbt prints once the on-run-end hook that records the finished build's activations ran."""


@dataclass
class Attempt:
    """One build killed after ``delay`` seconds (unless it finished first)."""

    delay: float
    finished_before_kill: bool
    last_line: str
    recorded_finish: bool
    """The build had run every node and recorded its activations before the kill landed."""
    activation_rows_added: int = 0

    @property
    def killed_unfinished(self) -> bool:
        return not self.finished_before_kill and not self.recorded_finish


@dataclass
class Comparison:
    """Per table: rows in the reference and recovered warehouses, lost and extra rows, duplicate ids."""

    rows: dict[str, tuple[int, int]] = field(default_factory=dict)
    lost: dict[str, int] = field(default_factory=dict)
    extra: dict[str, int] = field(default_factory=dict)
    duplicate_ids: dict[str, int] = field(default_factory=dict)
    lost_ids: dict[str, int] = field(default_factory=dict)
    """Rows (by log_id) missing from the recovered warehouse, whatever their values."""
    extra_ids: dict[str, int] = field(default_factory=dict)

    @property
    def equal(self) -> bool:
        return not any(self.lost.values()) and not any(self.extra.values()) and not any(self.duplicate_ids.values())


def dbt_command(project: Path, db: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    cmd = [str(BIN / "dbt"), *args, "--project-dir", str(project), "--profiles-dir", str(project)]
    env = dict(
        os.environ,
        MRS_DUCKDB_PATH=str(db),
        DBT_TARGET_PATH=str(db.parent / "target"),
        DBT_LOG_PATH=str(db.parent / "logs"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    return cmd, env


def build(project: Path, db: Path) -> float:
    """One uninterrupted `dbt build`; its duration in seconds."""
    cmd, env = dbt_command(project, db, "build")
    began = time.perf_counter()
    result = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"dbt build failed ({result.returncode}):\n{result.stdout[-5000:]}\n{result.stderr[-2000:]}")
    return time.perf_counter() - began


def killed_build(project: Path, db: Path, delay: float) -> Attempt:
    """`dbt build` killed (SIGKILL to its process group) after ``delay`` seconds."""
    cmd, env = dbt_command(project, db, "build")
    log = db.parent / "killed_build.out"
    with log.open("w") as out:
        process = subprocess.Popen(cmd, cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            process.wait(timeout=delay)
            finished = True
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            finished = False
    text = log.read_text(errors="replace")
    lines = [line for line in text.splitlines() if line.strip()]
    return Attempt(delay, finished, lines[-1] if lines else "", RECORD_HOOK_DONE in text)


def table_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        name
        for (name,) in con.sql("select table_name from information_schema.tables where table_schema = 'ml' order by 1").fetchall()
    ]


def compared_rows(con: duckdb.DuckDBPyConnection, table: str) -> tuple[list[str], Counter]:
    """The table's rows on its compared columns, as a multiset."""
    columns = [
        c
        for (c,) in con.sql(
            "select column_name from information_schema.columns where table_schema = 'ml' and table_name = ? "
            "order by ordinal_position",
            params=[table],
        ).fetchall()
        if c not in PER_RUN_COLUMNS
    ]
    conditions = []
    if "relation_kind" in columns:
        conditions.append("relation_kind = 'log'")
    if "suite_name" in columns:  # the validations of the activation log's batches are records of builds too
        conditions += [f"suite_name <> '{name}'" for name in BUILD_RECORDS]
    where = " where " + " and ".join(conditions) if conditions else ""
    select = ", ".join(f'cast("{c}" as varchar)' for c in columns)
    return columns, Counter(con.sql(f'select {select} from ml."{table}"{where}').fetchall())


def duplicate_log_ids(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> int:
    if "log_id" not in columns:
        return 0
    return con.sql(f'select count(*) - count(distinct log_id) from ml."{table}"').fetchall()[0][0]


def compare(reference: Path, recovered: Path) -> Comparison:
    """Every log of the two warehouses, row by row on the compared columns."""
    result = Comparison()
    with duckdb.connect(str(reference), read_only=True) as ref, duckdb.connect(str(recovered), read_only=True) as rec:
        tables = sorted(set(table_names(ref)) | set(table_names(rec)))
        for table in tables:
            if table in BUILD_RECORDS or not (table.endswith("_log") or table.endswith("_validations")):
                continue
            columns, expected = compared_rows(ref, table)
            _, got = compared_rows(rec, table)
            result.rows[table] = (sum(expected.values()), sum(got.values()))
            result.lost[table] = sum((expected - got).values())
            result.extra[table] = sum((got - expected).values())
            result.duplicate_ids[table] = duplicate_log_ids(rec, table, columns)
            if "log_id" in columns:
                ids = [{i for (i,) in con.sql(f'select log_id from ml."{table}"').fetchall()} for con in (ref, rec)]
                result.lost_ids[table], result.extra_ids[table] = len(ids[0] - ids[1]), len(ids[1] - ids[0])
    return result


def activation_rows(db: Path) -> int:
    """Rows of model_activation_log (0 before it exists)."""
    if not db.exists():
        return 0
    with duckdb.connect(str(db), read_only=True) as con:
        exists = con.sql(
            "select count(*) from information_schema.tables where table_schema = 'ml' and table_name = 'model_activation_log'"
        ).fetchall()[0][0]
        return con.sql("select count(*) from ml.model_activation_log").fetchall()[0][0] if exists else 0


def activation_runs(db: Path) -> list[str]:
    """The run_id of every build model_activation_log records."""
    with duckdb.connect(str(db), read_only=True) as con:
        return [
            r
            for (r,) in con.sql("select run_id from ml.model_activation_log group by run_id order by min(finished_at)").fetchall()
        ]


def last_run_id(db: Path) -> str:
    """The invocation id of the latest completed dbt command in that warehouse's target folder."""
    return json.loads((db.parent / "target" / "run_results.json").read_text())["metadata"]["invocation_id"]


def kill_and_recover(
    workdir: Path,
    kills: int,
    seed: int,
    reference_db: Path | None = None,
    reference_seconds: float | None = None,
    verbose: bool = True,
    max_delay: float | None = None,
) -> dict[str, Any]:
    """The whole experiment; returns its figures (see the module docstring)."""
    say = (lambda *a, **k: print(*a, **k, flush=True)) if verbose else (lambda *a, **k: None)
    rng = random.Random(seed)
    if reference_db is None:
        reference_db = workdir / "reference" / "mrs.duckdb"
        project = copy_project(workdir / "reference" / "project")
        reference_seconds = build(project, reference_db)
        say(f"reference build (uninterrupted)   {reference_seconds:7.1f} s")
    span = min(reference_seconds or 30.0, max_delay or float("inf"))
    project = copy_project(workdir / "recovered" / "project")
    db = workdir / "recovered" / "mrs.duckdb"
    attempts: list[Attempt] = []
    while len([a for a in attempts if a.killed_unfinished]) < kills:
        delay = rng.uniform(0.5, span)
        before = activation_rows(db)
        attempt = killed_build(project, db, delay)
        attempt.activation_rows_added = activation_rows(db) - before
        attempts.append(attempt)
        state = (
            "finished before the kill"
            if attempt.finished_before_kill
            else "SIGKILL after finishing"
            if attempt.recorded_finish
            else "SIGKILL"
        )
        say(
            f"attempt {len(attempts):2d}: {state:<24} after {delay:6.1f} s, activation rows added "
            f"{attempt.activation_rows_added}; last output: {attempt.last_line[-80:]}"
        )
    recovery_seconds = build(project, db)
    say(f"clean re-run after the kills      {recovery_seconds:7.1f} s")
    final_run = last_run_id(db)
    comparison = compare(reference_db, db)
    say(f"\n{'log':<40} {'reference':>10} {'recovered':>10} {'lost':>6} {'extra':>6} {'dup ids':>8}")
    for table, (expected, got) in comparison.rows.items():
        say(
            f"{table:<40} {expected:>10,} {got:>10,} {comparison.lost[table]:>6} {comparison.extra[table]:>6} "
            f"{comparison.duplicate_ids[table]:>8}"
        )
    killed = [a for a in attempts if a.killed_unfinished]
    finished = len(attempts) - len(killed)
    killed_activation_rows = sum(a.activation_rows_added for a in killed)
    runs = activation_runs(db)
    say(
        f"\nkills of unfinished builds: {len(killed)}; attempts that finished (or had recorded their finish) "
        f"before the kill: {finished}"
    )
    say(f"activation rows left by killed builds: {killed_activation_rows}")
    say(f"model_activation_log: {len(runs)} build(s) recorded, the last the re-run ({runs[-1] == final_run if runs else False})")
    say(
        f"logs equal to the uninterrupted build: {comparison.equal}; lost rows {sum(comparison.lost.values())}, "
        f"extra rows {sum(comparison.extra.values())}, duplicate log_ids {sum(comparison.duplicate_ids.values())}; "
        f"by log_id: lost {sum(comparison.lost_ids.values())}, extra {sum(comparison.extra_ids.values())}"
    )
    return {
        "kills": len(killed),
        "finished_attempts": finished,
        "comparison": comparison,
        "killed_activation_rows": killed_activation_rows,
        "recorded_builds": len(runs),
        "final_run_recorded": bool(runs) and runs[-1] == final_run,
        "attempts": attempts,
        "recovery_seconds": recovery_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1, help="seed of the random kill delays")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mrs-kill-recover"))
    parser.add_argument(
        "--max-delay", type=float, default=None, help="latest kill, in seconds (default: the reference build's duration)"
    )
    args = parser.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    figures = kill_and_recover(args.workdir, args.kills, args.seed, max_delay=args.max_delay)
    ok = figures["comparison"].equal and figures["killed_activation_rows"] == 0 and figures["final_run_recorded"]
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
