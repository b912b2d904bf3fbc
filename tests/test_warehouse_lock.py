"""A build that finds the warehouse locked by a reader fails at once with what to do (mrs.warehouse_lock)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from mrs.warehouse_lock import WarehouseLockedError, check_writable, main

HOLD = "import duckdb, sys, time\ncon = duckdb.connect(sys.argv[1], read_only=True)\nprint('open', flush=True)\ntime.sleep(120)\n"


def hold_open(path: Path) -> subprocess.Popen:
    """Another process holding ``path`` open read-only, as a BI tool would."""
    reader = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    assert reader.stdout is not None and reader.stdout.readline().strip() == "open"
    return reader


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "mrs.duckdb"
    duckdb.connect(str(path)).close()
    return path


def test_a_free_warehouse_passes_the_check(warehouse: Path) -> None:
    check_writable(str(warehouse))
    assert main([str(warehouse)]) == 0


def test_a_reader_holding_the_file_makes_the_check_fail_with_what_to_do(warehouse: Path, capsys) -> None:
    reader = hold_open(warehouse)
    try:
        began = time.perf_counter()
        with pytest.raises(WarehouseLockedError) as caught:
            check_writable(str(warehouse))
        assert time.perf_counter() - began < 5
        message = str(caught.value)
        assert str(warehouse) in message and f"PID {reader.pid}" in message
        assert "close the program that holds it" in message and "published/marts" in message
        assert main([str(warehouse)]) == 1
        assert "mrs: the warehouse file" in capsys.readouterr().err
    finally:
        reader.kill()
        reader.wait()
    check_writable(str(warehouse))  # free again once the reader is gone
