"""`mrs train`, `mrs approve`, `mrs reject` and `mrs retrain` (mrs.lifecycle.cli)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from conftest import PROJECT_ROOT
from lifecycle_helpers import build_warehouse
from mrs.cli import main


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return build_warehouse(tmp_path / "mrs.duckdb")


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_train_writes_a_new_version_and_prints_its_hold_out_metrics(warehouse: Path, tmp_path: Path) -> None:
    before = warehouse.read_bytes()
    result = run("train", "baseline", "--warehouse", str(warehouse), "--artifacts-dir", str(tmp_path / "art"), "--no-progress")
    assert result.exit_code == 0, result.output
    assert "trained baseline version 1" in result.output and "MASE" in result.output
    assert "mrs approve baseline 1 --by NAME --reason TEXT" in result.output
    manifest = json.loads((tmp_path / "art" / "baseline" / "1" / "manifest.json").read_text())
    assert manifest["metrics"]["holdout_mase"] < 1
    assert warehouse.read_bytes() == before  # read-only


def test_train_without_a_warehouse_is_a_one_line_error(tmp_path: Path) -> None:
    result = run("train", "baseline", "--warehouse", str(tmp_path / "missing.duckdb"))
    assert result.exit_code != 0
    assert "no warehouse at" in result.output and "Traceback" not in result.output


def test_approve_and_reject_append_to_the_approvals_file(tmp_path: Path) -> None:
    approvals = tmp_path / "model_approvals.csv"
    approvals.write_bytes((PROJECT_ROOT / "seeds" / "model_approvals.csv").read_bytes())
    committed = approvals.read_bytes()
    ok = run("approve", "baseline", "0.1", "--by", "Ada", "--reason", "reviewed", "--approvals-file", str(approvals))
    assert ok.exit_code == 0, ok.output
    no = run("reject", "baseline", "0.1", "--by", "Grace", "--reason", "too slow", "--approvals-file", str(approvals))
    assert no.exit_code == 0, no.output
    assert approvals.read_bytes().startswith(committed)
    rows = list(csv.DictReader(approvals.read_text().splitlines()))[-2:]
    assert [(r["model_version"], r["decision"], r["decided_by"]) for r in rows] == [("0.1", "approved", "Ada"), ("0.1", "rejected", "Grace")]


def test_approving_a_version_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    approvals = tmp_path / "model_approvals.csv"
    result = run("approve", "baseline", "9", "--by", "Ada", "--reason", "x", "--approvals-file", str(approvals),
                 "--artifacts-dir", str(tmp_path / "art"))
    assert result.exit_code != 0 and "has no version '9'" in result.output
    assert not approvals.exists()
    assert run("approve", "pricing", "1", "--by", "Ada", "--reason", "x").exit_code != 0


def test_retrain_trains_one_candidate_answering_the_open_baseline_events(warehouse: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema ml")
        con.execute(
            "create table ml.model_retrain_event_log as select * from (values "
            "('baseline', 'rte-a', date '2025-07-20'), ('baseline', 'rte-b', date '2025-07-23'), "
            "('attribution_model', 'rte-c', date '2025-07-23')) as t(model_name, event_id, as_of_date)"
        )
    art = str(tmp_path / "art")
    result = run("retrain", "--warehouse", str(warehouse), "--artifacts-dir", art, "--no-progress")
    assert result.exit_code == 0, result.output
    # the minority-report models train on simulated worlds, never on this warehouse: their events stay open
    assert "attribution_model trains on simulated worlds" in result.output and "pending approval" in result.output
    manifest = json.loads((tmp_path / "art" / "baseline" / "1" / "manifest.json").read_text())
    assert manifest["retrain_event_ids"] == ["rte-a", "rte-b"]
    again = run("retrain", "--warehouse", str(warehouse), "--artifacts-dir", art, "--no-progress")
    assert "baseline:" not in again.output and not (tmp_path / "art" / "baseline" / "2").exists()


def test_retrain_before_any_build_says_so(warehouse: Path, tmp_path: Path) -> None:
    result = run("retrain", "--warehouse", str(warehouse), "--artifacts-dir", str(tmp_path))
    assert result.exit_code != 0 and "run `dbt build` first" in result.output
