"""product_insights version 1 through the lifecycle inside dbt: trained outside the DAG,
registered with its hold-out figures, run only after approval, re-runs append nothing, and one
setting switches back to version 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Warehouse
from test_lifecycle_dbt import active_versions, cli

pytestmark = pytest.mark.integration

LOG = "ml.product_insights_log"
MART = "marts.product_insights"
REGISTRY = "ml.model_registry_log"
INSIGHTS = ("--select", "+product_insights")


@pytest.mark.prebuilt
def test_a_trained_forecaster_runs_after_approval_appends_nothing_on_rerun_and_rolls_back(
    project_copy: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifacts = tmp_path / "artifacts"
    approvals = project_copy.project_dir / "seeds" / "model_approvals.csv"
    monkeypatch.setenv("MRS_ARTIFACTS_DIR", str(artifacts))
    version_zero = sorted(project_copy.query(f"select log_id, price_forecast_next_week from {LOG} where model_version = '0'"))

    trained = cli("train", "product_insights", "--duckdb", str(project_copy.path), "--artifacts-dir", str(artifacts))
    assert "trained product_insights version 1" in trained and "hold-out next_week" in trained
    manifest = json.loads((artifacts / "product_insights" / "1" / "manifest.json").read_text())
    assert manifest["parameters"]["bound_level"] == 0.8
    assert any(k.startswith("candidate_next_week_last_price_") for k in manifest["metrics"])  # every candidate's figures

    v1 = active_versions(product_insights="1")
    refused = project_copy.dbt("build", *INSIGHTS, vars=v1, check=False)
    assert refused.returncode != 0 and "'product_insights' version '1' is registered but not approved" in refused.stdout
    metrics = json.loads(
        project_copy.scalar(f"select metrics from {REGISTRY} where model_name = 'product_insights' and model_version = '1'")
    )
    for horizon in ("next_week", "next_month"):
        assert metrics[f"holdout_{horizon}_mape"] < metrics[f"holdout_{horizon}_last_price_mape"]
        assert metrics[f"holdout_{horizon}_mase_vs_last_price"] < 1
        assert 0 < metrics[f"holdout_{horizon}_coverage"] <= 1 and metrics[f"holdout_{horizon}_median_width"] > 0

    cli(
        "approve",
        "product_insights",
        "1",
        "--by",
        "Test Reviewer",
        "--reason",
        "beats the last price on the hold-out",
        "--approvals-file",
        str(approvals),
        "--artifacts-dir",
        str(artifacts),
    )
    project_copy.dbt("build", *INSIGHTS, vars=v1)
    features = project_copy.scalar("select count(*) from ml.product_insight_inputs")
    scored = project_copy.query(
        f"select count(*), min(bound_level), max(bound_level), count(distinct model_registry_source) "
        f"from {LOG} where model_version = '1'"
    )
    assert scored == [(features, 0.8, 0.8, 1)]
    sources = dict(project_copy.query(f"select price_source, count(*) from {LOG} where model_version = '1' group by 1"))
    assert set(sources) == {"recent_prices", "last_known_price", "msrp"}
    assert project_copy.query(f"select distinct model_version, bound_level from {MART}") == [("1", 0.8)]

    logged = project_copy.scalar(f"select count(*) from {LOG}")
    project_copy.dbt("build", *INSIGHTS, vars=v1)
    assert project_copy.scalar(f"select count(*) from {LOG}") == logged  # a re-run appends nothing

    product = project_copy.scalar(
        f"select product_id from {MART} where price_source = 'recent_prices' order by product_id limit 1"
    )
    shown = json.loads(cli("insights", product, "--json", "--warehouse", str(project_copy.path)))
    assert shown["model_version"] == "1" and shown["source"] == "cached"
    assert shown["insight"]["bound_level"] == 0.8 and shown["insight"]["price_source"] == "recent_prices"
    text = cli("insights", product, "--warehouse", str(project_copy.path))
    assert "product_insights v1" in text and "80% prediction interval" in text and "price from        recent_prices" in text

    project_copy.dbt("build", *INSIGHTS)  # roll back: the var names version 0 again
    assert project_copy.scalar(f"select count(*) from {LOG}") == logged  # nothing re-scored
    assert project_copy.query(f"select distinct model_version from {MART}") == [("0",)]
    assert (
        sorted(project_copy.query(f"select log_id, price_forecast_next_week from {LOG} where model_version = '0'"))
        == version_zero
    )
    text = cli("insights", product, "--warehouse", str(project_copy.path))
    assert "no stated level" in text
