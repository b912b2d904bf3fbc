"""The learned (v1) minority-report stages inside dbt: trained outside the DAG, registered,
approved and activated by configuration; they never read the narratives; a re-run appends
nothing; switching back to version 0 re-scores nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from conftest import PROJECT_ROOT, Warehouse
from mrs.cli import main
from mrs.minority.cli import MINORITY_TRAINABLE, train_minority_model
from mrs.minority.schemas import MINORITY_LOGS
from test_minority_v1_training import TINY

pytestmark = pytest.mark.integration

LOGS = tuple(f"ml.{spec.name}" for spec in MINORITY_LOGS)


def _versions(**overrides: str) -> dict:
    project = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())
    return {"active_model_versions": {**project["vars"]["active_model_versions"], **overrides}}


def _counts(w: Warehouse) -> dict[str, int]:
    return {log: w.scalar(f"select count(*) from {log}") for log in LOGS}


def test_trained_v1_stages_score_without_narratives_rerun_nothing_and_roll_back(
    project_copy: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifacts = tmp_path / "artifacts"
    monkeypatch.setenv("MRS_ARTIFACTS_DIR", str(artifacts))
    project_copy.dbt("build")
    v0_rows = {log: project_copy.query(f"select log_id from {log} order by log_id") for log in LOGS}

    for model in MINORITY_TRAINABLE:
        train_minority_model(model, artifacts, world_cache=str(tmp_path / "worlds"), plan=TINY, echo=lambda _: None)
        result = CliRunner().invoke(main, [
            "approve", model, "1", "--by", "Test Reviewer", "--reason", "hold-out figures in the manifest",
            "--approvals-file", str(project_copy.project_dir / "seeds" / "model_approvals.csv"), "--artifacts-dir", str(artifacts),
        ])
        assert result.exit_code == 0, result.output
    v1 = _versions(anomaly_classifier="1", cluster_model="1", attribution_model="1")
    project_copy.dbt("build", vars=v1)

    detections = project_copy.query(
        "select count(*), count(narrative_id), min(model_confidence_metric), max(model_confidence_metric), "
        "count(distinct model_registry_source), min(trained_on) from ml.detection_log where model_version = '1'"
    )[0]
    assert detections[0] > 0 and detections[1] == 0  # found in the data; no narrative read
    assert 0.0 <= detections[2] <= detections[3] <= 1.0
    assert detections[4] == 1 and str(detections[5]) == "2025-08-12"
    source = project_copy.scalar("select max(model_registry_source) from ml.detection_log where model_version = '1'")
    assert source.startswith("artifact:anomaly_classifier/1#sha256=")
    for log in ("ml.cluster_log", "ml.attribution_log"):
        described = project_copy.query(
            f"select count(*), count(narrative_id), min(model_confidence_metric), max(model_confidence_metric) "
            f"from {log} where model_version = '1'"
        )[0]
        assert described[0] == detections[0] and described[1] == 0 and 0.0 <= described[2] <= described[3] <= 1.0
    reports = project_copy.query(
        "select count(*), count(distinct anomaly_classifier_version), min(anomaly_classifier_version), "
        "count(cluster_name), count(cause_type) from marts.minority_reports"
    )[0]
    assert reports == (detections[0], 1, "1", detections[0], detections[0])
    # a v1 detection is linked to the baseline rows it was computed from
    assert project_copy.scalar(
        "select count(*) from ml.detection_log where model_version = '1' and len(baseline_log_ids) <> window_days"
    ) == 0
    breaches = project_copy.query(
        "select status from ml.model_monitoring_log where model_name = 'anomaly_classifier' and signal = 'detection_rate'"
    )
    assert breaches  # the classifier's detection rate is monitored against its training rate
    for log in LOGS:  # version 0's rows are untouched
        assert [r for r in project_copy.query(f"select log_id from {log} where model_version = '0' order by log_id")] == [
            r for r in v0_rows[log]
        ] or log == "ml.baseline_log"

    counts = _counts(project_copy)
    project_copy.dbt("build", vars=v1)
    assert _counts(project_copy) == counts  # a re-run on unchanged inputs appends nothing
    project_copy.dbt("build")  # roll back to version 0: one setting, nothing re-scored
    assert _counts(project_copy) == counts
    assert project_copy.query("select distinct anomaly_classifier_version from marts.minority_reports") == [("0",)]
