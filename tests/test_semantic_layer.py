"""The semantic layer: every metric queried with MetricFlow (`mf query`, dbt-metricflow) on the demo
world, and the three the dashboards use checked against plain SQL over the marts."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Warehouse, copy_project

MF = str(Path(sys.executable).parent / "mf")
DBT = str(Path(sys.executable).parent / "dbt")
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def semantic_project(built_warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """A copy of the project, parsed into its own target/ (where `mf` reads the semantic manifest),
    over a copy of the built demo warehouse (MetricFlow's dbt-duckdb connection opens it for writing)."""
    root = tmp_path_factory.mktemp("semantic")
    project = copy_project(root / "project")
    warehouse = Warehouse(project_dir=project, path=root / "mrs.duckdb")
    shutil.copy(built_warehouse.path, warehouse.path)
    subprocess.run([DBT, "parse", "--quiet"], cwd=project, env=_env(warehouse), check=True, capture_output=True, text=True)
    return warehouse


def _env(warehouse: Warehouse) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DBT_TARGET_PATH"}
    env.update(
        MRS_DUCKDB_PATH=str(warehouse.path), DBT_PROFILES_DIR=str(warehouse.project_dir), DBT_SEND_ANONYMOUS_USAGE_STATS="false"
    )
    return env


def mf_query(warehouse: Warehouse, metrics: list[str], group_by: list[str], out: Path) -> list[dict[str, str]]:
    result = subprocess.run(
        [MF, "query", "--metrics", ",".join(metrics), "--group-by", ",".join(group_by), "--csv", str(out)],
        cwd=warehouse.project_dir,
        env=_env(warehouse),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and out.is_file(), (
        f"mf query {metrics} by {group_by}:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}"
    )
    with out.open(newline="") as f:
        return list(csv.DictReader(f))


def test_dbt_parse_writes_the_semantic_models_and_metrics(semantic_project: Warehouse) -> None:
    manifest = json.loads((semantic_project.project_dir / "target" / "semantic_manifest.json").read_text())
    assert {m["name"] for m in manifest["semantic_models"]} == {"minority_report", "daily_sales_vs_baseline", "product"}
    assert {"anomalies", "units_vs_baseline", "products_at_sellout_risk"} <= {m["name"] for m in manifest["metrics"]}


def test_every_metric_answers_by_day_on_the_demo_world(semantic_project: Warehouse, tmp_path: Path) -> None:
    """All metrics in one query by metric_time (MetricFlow joins them on the time spine)."""
    manifest = json.loads((semantic_project.project_dir / "target" / "semantic_manifest.json").read_text())
    metrics = sorted(m["name"] for m in manifest["metrics"])
    rows = mf_query(semantic_project, metrics, ["metric_time__day"], tmp_path / "all.csv")
    for metric in metrics:
        assert any(r[metric] not in ("", None) for r in rows), f"{metric}: no values"
    # units vs baseline = units sold - baseline units, day by day and in total
    sold, expected = semantic_project.query("select sum(actual_units), sum(expected_units) from marts.daily_sales_vs_baseline")[0]
    days = [r for r in rows if r["units_vs_baseline"] not in ("", None)]
    assert sum(float(r["units_vs_baseline"]) for r in days) == pytest.approx(sold - expected, abs=1e-3)
    assert all(
        float(r["units_vs_baseline"]) == pytest.approx(float(r["units_sold"]) - float(r["units_expected"]), abs=1e-3)
        for r in days
    )


def test_anomalies_per_cluster_and_week_match_the_mart(semantic_project: Warehouse, tmp_path: Path) -> None:
    rows = mf_query(semantic_project, ["anomalies"], ["anomaly__cluster_name", "metric_time__week"], tmp_path / "a.csv")
    got = {(r["anomaly__cluster_name"], r["metric_time__week"][:10]): int(float(r["anomalies"])) for r in rows}
    expected = {
        (cluster, str(week)): n
        for cluster, week, n in semantic_project.query(
            "select cluster_name, cast(date_trunc('week', window_start) as date), count(*) "
            "from marts.minority_reports group by 1, 2"
        )
    }
    assert got == expected and sum(got.values()) > 0


def test_products_at_sellout_risk_per_category_match_the_mart(semantic_project: Warehouse, tmp_path: Path) -> None:
    rows = mf_query(semantic_project, ["products_at_sellout_risk"], ["product__category"], tmp_path / "p.csv")
    got = {r["product__category"]: int(float(r["products_at_sellout_risk"])) for r in rows}
    expected = dict(
        semantic_project.query(
            "select category, count(*) filter (where sellout_risk >= 0.7) from marts.product_insights group by 1"
        )
    )
    assert got == expected
