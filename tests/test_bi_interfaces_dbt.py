"""What BI sees: marts readable as Parquet during builds, a locked warehouse failing fast with what
to do, and the dbt interfaces (contracts, access, group, exposures) in the manifest."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from conftest import DBT, PROJECT_ROOT, Warehouse
from mrs.publish import read_metadata
from test_warehouse_lock import hold_open

pytestmark = pytest.mark.integration
MARTS = (
    "product_insights", "minority_reports", "daily_sales_vs_baseline", "model_versions", "anomaly_reviews",
    "input_quarantine_summary",
)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    target = tmp_path_factory.mktemp("parse") / "target"
    subprocess.run(
        [DBT, "parse", "--quiet", "--project-dir", str(PROJECT_ROOT), "--profiles-dir", str(PROJECT_ROOT), "--target-path", str(target)],
        check=True, capture_output=True, text=True, cwd=PROJECT_ROOT,
    )
    return json.loads((target / "manifest.json").read_text())


def _marts(manifest: dict) -> dict[str, dict]:
    return {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["fqn"][1] == "marts"}


def test_every_mart_is_public_in_the_marts_group_with_an_enforced_contract(manifest: dict) -> None:
    marts = _marts(manifest)
    assert set(marts) == set(MARTS)
    for name, node in marts.items():
        assert node["config"]["contract"]["enforced"] is True, name
        assert node["access"] == "public" and node["group"] == "marts", name
        untyped = [c for c, spec in node["columns"].items() if not spec.get("data_type")]
        assert node["columns"] and untyped == [], f"{name}: columns without data_type {untyped}"
    assert manifest["groups"]["group.mrs.marts"]["owner"]["email"]


def test_every_mart_has_an_exposure_with_url_and_owner_in_its_folders_exposures_file(manifest: dict) -> None:
    exposed: set[str] = set()
    for exposure in manifest["exposures"].values():
        assert exposure["url"] and exposure["owner"]["name"] and exposure["owner"]["email"], exposure["name"]
        folder = Path(exposure["original_file_path"]).parent.name
        assert exposure["original_file_path"] == f"models/marts/{folder}/_{folder}__exposures.yml", exposure["name"]
        exposed |= {node.split(".")[-1] for node in exposure["depends_on"]["nodes"]}
    assert set(MARTS) <= exposed


def _read_published(directory: Path) -> tuple[int, int]:
    """Read every published mart the ways BI does: pyarrow, pandas, DuckDB over Parquet.
    Returns (reads, partial states): a partial state is a file whose rows differ from the count
    its publishing build stamped in it, or that cannot be read whole."""
    reads = partial = 0
    for mart in MARTS:
        path = directory / f"{mart}.parquet"
        if not path.exists():
            continue
        table = pq.read_table(path)
        stamped = int(read_metadata(path)["rows"])
        frame = pd.read_parquet(path)
        with duckdb.connect() as con:
            (count,) = con.sql(f"select count(*) from read_parquet('{path}')").fetchall()[0]
        reads += 1
        partial += not (table.num_rows == len(frame) == count == stamped)
    return reads, partial


def test_a_reader_polling_the_parquet_marts_through_three_builds_never_fails(project_copy: Warehouse) -> None:
    directory = project_copy.published_dir
    stop = threading.Event()
    stats = {"polls": 0, "reads": 0, "errors": [], "partial": 0, "versions": set()}

    def poll() -> None:
        while not stop.is_set():
            try:
                reads, partial = _read_published(directory)
                stats["reads"] += reads
                stats["partial"] += partial
                if (directory / "product_insights.parquet").exists():
                    stats["versions"].add(read_metadata(directory / "product_insights.parquet")["run_id"])
            except Exception as exc:  # any error a BI reader would see
                stats["errors"].append(f"{type(exc).__name__}: {exc}")
            stats["polls"] += 1
            time.sleep(0.2)

    reader = threading.Thread(target=poll, daemon=True)
    reader.start()
    try:
        # each build ages the insights differently, so product_insights changes and is republished
        # (a mart that did not change since its latest passed validation keeps its file)
        results = [
            project_copy.dbt("build", check=False, vars={"product_insights_max_age_days": age}) for age in (14, 0, 14)
        ]
    finally:
        stop.set()
        reader.join(timeout=30)
    print(f"reader: {stats['polls']} polls, {stats['reads']} file reads, {len(stats['errors'])} errors, "
          f"{stats['partial']} partial states, {len(stats['versions'])} published versions seen")
    assert [r.returncode for r in results] == [0, 0, 0], results[-1].stdout[-4000:]
    assert stats["errors"] == [] and stats["partial"] == 0
    assert stats["reads"] > 0 and len(stats["versions"]) == 3  # the reader saw the file replaced by each build
    published = json.loads((directory / "_published.json").read_text())
    assert sorted(m["mart"] for m in published["marts"]) == sorted(MARTS)
    assert [p.name for p in directory.iterdir() if p.name.startswith(".")] == []  # no temporary left
    # the published copy is the mart as validated
    assert pq.read_table(directory / "minority_reports.parquet").num_rows == project_copy.scalar("select count(*) from marts.minority_reports")


def test_a_build_started_while_a_reader_holds_the_warehouse_fails_within_seconds_saying_what_to_do(
    built_warehouse: Warehouse, tmp_path: Path
) -> None:
    warehouse = Warehouse(project_dir=PROJECT_ROOT, path=tmp_path / "mrs.duckdb")
    warehouse.path.write_bytes(built_warehouse.path.read_bytes())
    reader = hold_open(warehouse.path)
    try:
        began = time.perf_counter()
        check = subprocess.run([sys.executable, "-m", "mrs.warehouse_lock", str(warehouse.path)], capture_output=True, text=True)
        check_seconds = time.perf_counter() - began
        began = time.perf_counter()
        result = warehouse.dbt("build", check=False)
        seconds = time.perf_counter() - began
    finally:
        reader.kill()
        reader.wait()
    print(f"lock check (make build's first step): exit {check.returncode} after {check_seconds:.1f} s; "
          f"dbt build failed after {seconds:.1f} s")
    assert check.returncode == 1 and "close the program that holds it" in check.stderr and check_seconds < 10
    assert result.returncode != 0
    assert f"the warehouse file {warehouse.path} is open in another process" in result.stdout
    assert "close the program that holds it" in result.stdout and f"PID {reader.pid}" in result.stdout
    assert " START " not in result.stdout  # nothing ran
    assert seconds < 90  # parsing the project is most of it (see the README for the measured figure)


def test_source_freshness_on_the_demo_world_reports_its_latest_days_and_warns_without_failing(
    built_warehouse: Warehouse,
) -> None:
    result = built_warehouse.dbt("source", "freshness", check=False)
    assert result.returncode == 0, result.stdout[-4000:]  # a world dated 2025 is stale: warnings, never a failure
    freshness = json.loads((built_warehouse.path.parent / "target" / "sources.json").read_text())
    found = {r["unique_id"].split(".", 2)[2]: r for r in freshness["results"]}
    assert set(found) == {"canonical.sales", "northmart.sales_northmart", "coastco.sales_coastco", "price_tracker.prices", "price_tracker.alerts"}
    latest = {
        "northmart.sales_northmart": built_warehouse.scalar("select max(date) from raw.sales_northmart"),
        "coastco.sales_coastco": built_warehouse.scalar("select max(strptime(TXN_DATE, '%Y%m%d'))::date from raw.sales_coastco"),
        "price_tracker.prices": built_warehouse.scalar("select max(observed_on) from raw.prices"),
        "price_tracker.alerts": built_warehouse.scalar("select max(alerted_at) from raw.alerts"),
    }
    for name, day in latest.items():  # each table's own latest day, read where vars.raw_tables points
        assert found[name]["max_loaded_at"].startswith(str(day).replace(" ", "T")), (name, found[name]["max_loaded_at"], day)
    # the demo has no canonical sales table: nothing loaded, reported as stale
    assert found["canonical.sales"]["max_loaded_at"].startswith("0001-01-01")
    assert {r["status"] for r in found.values()} == {"warn"}
    assert {json.dumps(r["criteria"], sort_keys=True) for r in found.values()} == {
        json.dumps({"warn_after": {"count": 2, "period": "day"}, "error_after": {"count": None, "period": "day"}, "filter": None}, sort_keys=True)
    }


def test_every_seed_and_source_column_is_described_in_yaml_with_its_data_type(
    manifest: dict, built_warehouse: Warehouse
) -> None:
    seeds = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "seed"}
    assert set(seeds) == {p.stem for p in (PROJECT_ROOT / "seeds").glob("*.csv")}
    loaded = {
        (table, column): data_type.lower()
        for table, column, data_type in built_warehouse.query(
            "select table_name, column_name, data_type from information_schema.columns where table_schema = 'raw'"
        )
    }
    for name, seed in seeds.items():
        header = next(csv.reader((PROJECT_ROOT / "seeds" / f"{name}.csv").open()))
        assert seed["description"].strip() and "{{" not in seed["description"], name
        assert list(seed["columns"]) == header, name  # every column, in the file's order
        for column, spec in seed["columns"].items():
            assert spec["description"].strip() and "{{" not in spec["description"], (name, column)
            assert spec["data_type"] == loaded[(name, column)], (name, column)
    for source in (n for n in manifest["sources"].values()):
        assert source["description"].strip() and "{{" not in source["description"], source["unique_id"]
        for column, spec in source["columns"].items():
            assert spec["description"].strip() and "{{" not in spec["description"] and spec["data_type"], (source["unique_id"], column)
    # one text for a demo seed's column and its source's column: the same doc block
    assert seeds["sales_northmart"]["columns"]["units"]["description"] == manifest["sources"][
        "source.mrs.northmart.sales_northmart"]["columns"]["units"]["description"]
