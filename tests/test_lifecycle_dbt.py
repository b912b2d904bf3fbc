"""The model lifecycle inside dbt: registry, approval-gated activation, the learned baseline,
rollback, re-review, drift monitoring and retrain events (issue 5's "Must show")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import PROJECT_ROOT, Warehouse

from mrs.cli import main
from mrs.versions import MODEL_NAMES

pytestmark = pytest.mark.integration

REGISTRY = "ml.model_registry_log"
BASELINE_LOG = "ml.baseline_log"


def active_versions(**overrides: str) -> dict[str, dict[str, str]]:
    project = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())
    return {"active_model_versions": {**project["vars"]["active_model_versions"], **overrides}}


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def rows(warehouse: Warehouse, sql: str) -> list[tuple]:
    return sorted(warehouse.query(sql), key=repr)


# ---- the committed project, built once ------------------------------------------------------------


def test_every_model_has_an_approved_active_version_and_a_recorded_activation(built_warehouse: Warehouse) -> None:
    registered = built_warehouse.query(f"select model_name, model_kind from {REGISTRY} where model_version = '0'")
    assert sorted(registered) == sorted((m, "builtin") for m in MODEL_NAMES)
    # the project's versions: version 0, and the shipped version 1 of the minority-report models
    versions = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]["model_versions"]
    active = built_warehouse.query("select model_name, model_version, approval_status from marts.model_versions where is_active")
    assert sorted(active) == sorted((m, versions[m], "approved") for m in MODEL_NAMES)
    activations = built_warehouse.query("select model_name, model_version from ml.model_activation_log")
    assert sorted(activations) == sorted((m, versions[m]) for m in MODEL_NAMES)


def test_every_active_model_is_monitored_and_the_base_data_flags_no_drift(built_warehouse: Warehouse) -> None:
    monitored = {r[0] for r in built_warehouse.query("select distinct model_name from ml.model_monitoring_log")}
    assert monitored == set(MODEL_NAMES)
    assert built_warehouse.scalar("select count(*) from ml.model_monitoring_log where status = 'ok'") > 0
    breaches = built_warehouse.query(
        "select model_name, signal, subject, value, threshold from ml.model_monitoring_log where is_breach"
    )
    # The one breach: the demo packs its 8 narratives into the last 14 days, so the active anomaly
    # classifier (version 2) detects about 13x its rate on the simulated validation worlds there
    # (22 events in 4,200 pair-days), and the detection-rate signal says so.
    assert [(m, sig, sub) for m, sig, sub, *_ in breaches] == [
        ("anomaly_classifier", "detection_rate", "detections_per_pair_day")
    ]
    assert [m for (m,) in built_warehouse.query("select model_name from ml.model_retrain_event_log")] == ["anomaly_classifier"]
    assert built_warehouse.scalar("select count(*) from marts.model_versions where has_drift") == 0


# ---- train, register, approve, activate, roll back ---------------------------------------------------


@pytest.mark.prebuilt
def test_a_trained_baseline_runs_only_after_approval_and_rolls_back_without_rescoring(
    project_copy: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifacts = tmp_path / "artifacts"
    approvals = project_copy.project_dir / "seeds" / "model_approvals.csv"
    monkeypatch.setenv("MRS_ARTIFACTS_DIR", str(artifacts))
    registry_before = rows(project_copy, f"select * from {REGISTRY}")
    version_zero_rows = rows(project_copy, f"select * from {BASELINE_LOG} where model_version = '0'")

    trained = cli("train", "baseline", "--warehouse", str(project_copy.path), "--artifacts-dir", str(artifacts), "--no-progress")
    assert "trained baseline version 1" in trained

    # activating it before approval: the build registers it, then fails before scoring, saying how to fix it
    refused = project_copy.dbt("build", vars=active_versions(baseline="1"), check=False)
    assert refused.returncode != 0
    assert "'baseline' version '1' is registered but not approved" in refused.stdout
    assert "mrs approve baseline 1 --by NAME --reason TEXT" in refused.stdout
    assert project_copy.scalar(f"select count(*) from {BASELINE_LOG} where model_version = '1'") == 0
    kind, mase, relative = project_copy.query(
        f"select model_kind, holdout_mase, holdout_relative_mae from {REGISTRY} "
        f"where model_name = 'baseline' and model_version = '1'"
    )[0]
    assert kind == "trained" and mase < 1 and relative < 1  # beats weekly seasonal naive on the hold-out

    cli(
        "approve",
        "baseline",
        "1",
        "--by",
        "Test Reviewer",
        "--reason",
        "hold-out MASE below 1",
        "--approvals-file",
        str(approvals),
        "--artifacts-dir",
        str(artifacts),
    )
    rereview = {"model": "baseline", "from": "2025-06-02", "to": "2025-06-08"}
    project_copy.dbt("build", vars=active_versions(baseline="1") | {"rereview": rereview})

    assert rows(project_copy, f"select * from {BASELINE_LOG} where model_version = '0'") == version_zero_rows
    learned = project_copy.query(
        f"select count(*), count(distinct model_registry_source), min(sales_date) from {BASELINE_LOG} where model_version = '1'"
    )[0]
    assert learned[0] > 0 and learned[1] == 1 and str(learned[2]) == "2025-06-02"  # re-review reached back
    assert project_copy.query("select distinct baseline_model_version from marts.minority_reports") == [("1",)]
    reviews = project_copy.query(
        "select anomaly_id, list(baseline_model_version order by baseline_model_version), "
        "max(case when is_active_review then baseline_model_version end) from marts.anomaly_reviews group by 1"
    )
    # a learned classifier finds what each baseline's residuals show (and version 1 re-reviewed from
    # June, before version 0's window): some anomalies read before and after, others under one
    # version only; the active review is always the version 1 one
    assert any(versions == ["0", "1"] for _, versions, _ in reviews), reviews
    assert all(active == ("1" if "1" in versions else None) for _, versions, active in reviews), reviews
    sources = project_copy.query(
        "select distinct reference_source from ml.model_monitoring_log where model_name = 'baseline' and model_version = '1'"
    )
    assert ("manifest",) in sources

    scored = project_copy.scalar(f"select count(*) from {BASELINE_LOG}")
    project_copy.dbt("build")  # roll back: the var names version 0 again
    assert project_copy.scalar(f"select count(*) from {BASELINE_LOG}") == scored  # nothing re-scored
    assert project_copy.query("select distinct baseline_model_version from marts.minority_reports") == [("0",)]
    assert project_copy.query("select distinct baseline_model_version from marts.anomaly_reviews where is_active_review") == [
        ("0",)
    ]
    history = project_copy.query(
        "select model_version from ml.model_activation_log where model_name = 'baseline' order by activated_at"
    )
    assert [v for (v,) in history] == ["0", "1", "0"]  # the refused build recorded nothing
    assert (
        rows(project_copy, f"select * from {REGISTRY} where not (model_name = 'baseline' and model_version = '1')")
        == registry_before
    )
    assert project_copy.query(
        "select approval_status, is_active, holdout_mase < 1 from marts.model_versions "
        "where model_name = 'baseline' and model_version = '1'"
    ) == [("approved", False, True)]


# ---- drift -----------------------------------------------------------------------------------------------


def test_drifted_data_is_flagged_raises_retrain_events_and_retrain_answers_them(
    project_copy: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifacts = tmp_path / "artifacts"
    monkeypatch.setenv("MRS_ARTIFACTS_DIR", str(artifacts))
    cli("simulate", "--drift", "--out", str(project_copy.project_dir / "seeds"), "--no-progress")
    project_copy.dbt("build")

    breached = {
        (m, s)
        for m, s in project_copy.query("select model_name, signal || ':' || subject from ml.model_monitoring_log where is_breach")
    }
    assert ("baseline", "feature_drift:dataset") in breached
    assert ("product_insights", "feature_drift:dataset") in breached
    events = project_copy.query("select model_name, trigger, breached_signals from ml.model_retrain_event_log")
    assert ("baseline", "reactive", ["feature_drift:dataset"]) in events
    assert project_copy.scalar(
        "select has_drift and open_retrain_events > 0 from marts.model_versions where model_name = 'baseline' and is_active"
    )

    logs = ("model_monitoring_log", "model_retrain_event_log", "model_registry_log", "model_approval_log")
    counts = "select " + ", ".join(f"(select count(*) from ml.{log})" for log in logs)
    before = project_copy.query(counts)
    activations = project_copy.scalar("select count(*) from ml.model_activation_log")
    project_copy.dbt("build")  # unchanged inputs: the lifecycle logs append nothing but this build's activations
    assert project_copy.query(counts) == before
    assert project_copy.scalar("select count(*) from ml.model_activation_log") == activations + len(MODEL_NAMES)

    output = cli("retrain", "--warehouse", str(project_copy.path), "--artifacts-dir", str(artifacts), "--no-progress")
    assert "pending approval" in output
    manifest = json.loads((artifacts / "baseline" / "1" / "manifest.json").read_text())
    baseline_events = {
        e for (e,) in project_copy.query("select event_id from ml.model_retrain_event_log where model_name = 'baseline'")
    }
    assert set(manifest["retrain_event_ids"]) == baseline_events
    project_copy.dbt("build")  # registers the candidate, pending approval; its events are answered
    assert project_copy.query(
        "select model_version, approval_status, is_active from marts.model_versions "
        "where model_name = 'baseline' and model_kind = 'trained'"
    ) == [("1", "pending", False)]
    assert (
        project_copy.scalar("select open_retrain_events from marts.model_versions where model_name = 'baseline' and is_active")
        == 0
    )


def test_an_activation_log_of_the_earlier_shape_is_upgraded_in_place_by_the_next_run(
    built_warehouse: Warehouse, project_copy: Warehouse
) -> None:
    import duckdb

    # a warehouse built before model_activation_log had build_status and finished_at
    with duckdb.connect(str(project_copy.path)) as con:
        con.execute(f"attach '{built_warehouse.path}' as built (read_only)")
        con.execute("create schema ml")
        con.execute("create table ml.model_activation_gate as select * from built.ml.model_activation_gate")
        con.execute(
            "create table ml.model_activation_log as "
            "select * exclude (build_status, finished_at) from built.ml.model_activation_log"
        )
        old_rows = con.sql("select * from ml.model_activation_log order by log_id").fetchall()
    assert old_rows
    result = project_copy.dbt("run", "--select", "model_activation_log")
    assert "MRS model_activation_log: upgraded in place, added column(s) build_status, finished_at" in result.stdout
    columns = [
        c
        for (c,) in project_copy.query(
            "select column_name from information_schema.columns where table_schema = 'ml' "
            "and table_name = 'model_activation_log' order by ordinal_position"
        )
    ]
    assert columns[-2:] == ["build_status", "finished_at"]
    kept = project_copy.query("select * exclude (build_status, finished_at) from ml.model_activation_log order by log_id")
    assert kept == old_rows  # every old row, unchanged, null in the new columns
    assert (
        project_copy.scalar(
            "select count(*) from ml.model_activation_log where build_status is not null or finished_at is not null"
        )
        == 0
    )
