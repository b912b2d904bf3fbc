"""The `mrs` command line's shared behaviour: --version, --json results and errors, --warehouse."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from mrs import __version__
from mrs.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_version_prints_the_package_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"mrs {__version__}"


def test_a_json_error_is_json_on_stdout_with_a_non_zero_exit(tmp_path: Path) -> None:
    missing = tmp_path / "missing.duckdb"
    for args in (
        ("insights", "P0001", "--json", "--warehouse", str(missing)),
        ("train", "baseline", "--json", "--warehouse", str(missing)),
        ("retrain", "--json", "--warehouse", str(missing)),
        ("report", "--json", "--warehouse", str(missing), "--out", str(tmp_path / "r")),
    ):
        result = CliRunner().invoke(main, list(args))
        assert result.exit_code == 1, (args, result.output)
        error = json.loads(result.stdout)["error"]
        assert "no warehouse at" in error["message"] and error["type"] == "ClickException", args


def test_a_usage_error_under_json_is_json_too() -> None:
    result = CliRunner().invoke(main, ["approve", "no_such_model", "1", "--by", "a", "--reason", "b", "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "BadParameter" and "no_such_model" in error["message"]


def test_approve_prints_its_record_as_json(tmp_path: Path) -> None:
    approvals = tmp_path / "model_approvals.csv"
    result = run(
        "approve", "baseline", "0.1", "--by", "Ada", "--reason", "reviewed", "--approvals-file", str(approvals), "--json"
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["approval"]["decided_by"] == "Ada" and document["approvals_file"] == str(approvals)


def test_simulate_prints_its_row_counts_as_json(tmp_path: Path) -> None:
    result = run(
        "simulate",
        "--out",
        str(tmp_path),
        "--format",
        "parquet",
        "--stores",
        "4",
        "--skus",
        "6",
        "--days",
        "60",
        "--products",
        "8",
        "--no-progress",
        "--json",
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["seed"] == 42 and document["rows"] == sum(document["tables"].values()) > 0


def test_every_command_that_reads_the_warehouse_names_the_option_warehouse() -> None:
    for name in ("insights", "train", "retrain", "report"):
        help_text = run(name, "--help").output
        assert "--warehouse" in help_text and "--duckdb" not in help_text, name


def test_the_old_duckdb_option_still_works_and_says_it_is_deprecated(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["retrain", "--duckdb", str(tmp_path / "missing.duckdb")])
    assert result.exit_code == 1
    assert "--duckdb is deprecated, use --warehouse" in result.stderr
    assert f"no warehouse at {tmp_path / 'missing.duckdb'}" in result.output
