"""Immutable artefacts (mrs.lifecycle.artifacts) and model_registry_log (mrs.lifecycle.registry)."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from mrs.lifecycle.artifacts import (
    ARTIFACTS_ENV,
    ArtifactError,
    Manifest,
    artifacts_root,
    find_manifests,
    locate_version,
    next_version,
    read_verified_model,
    sha256_file,
    write_artifact,
)
from mrs.lifecycle.registry import builtin_entries, register_new_versions, registry_entries
from mrs.logs import RunContext
from mrs.versions import BUILTIN_CARDS

RUN = RunContext("run-1", datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture(autouse=True)
def _outside_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests see only their own artefacts, not the project's shipped trained_models/."""
    monkeypatch.chdir(tmp_path)


def manifest(version: str, **changes) -> Manifest:
    base = Manifest(
        model_name="baseline", model_version=version, trained_on=date(2025, 8, 12), description="test model",
        dataset_fingerprint="rows=1;md5sum=1", training_rows=100, data_start=date(2025, 5, 1), data_end=date(2025, 8, 12),
        features=("lag_7d",), categorical_levels={}, parameters={"objective": "tweedie"},
        metrics={"holdout_wape": 0.4, "holdout_mase": 0.7, "validation_wape": 0.41, "holdout_relative_mae": 0.72},
        splits={"train": {"start": "2025-05-01", "end": "2025-07-15", "rows": 80}},
        reference={"lag_7d": {"count": 3, "mean": 1.0, "std": 0.5, "quantiles": [0.0] * 101, "bin_edges": [0.0], "bin_counts": [0, 3]}},
        confidence_metric=0.6,
    )
    return replace(base, **changes)


def test_an_artefact_is_written_once_with_the_models_checksum(tmp_path: Path) -> None:
    path = write_artifact(tmp_path, manifest("1"), "tree\n")
    assert path == tmp_path / "baseline" / "1"
    [(found, m)] = find_manifests(tmp_path)
    assert found == path / "manifest.json" and m.model_version == "1"
    assert read_verified_model(str(path), m.artifact_sha256) == "tree\n"
    with pytest.raises(ArtifactError, match="versions are immutable"):
        write_artifact(tmp_path, manifest("1"), "another tree\n")
    assert (path / "model.txt").read_text() == "tree\n"


def test_a_changed_model_file_no_longer_verifies(tmp_path: Path) -> None:
    path = write_artifact(tmp_path, manifest("1"), "tree\n")
    sha = find_manifests(tmp_path)[0][1].artifact_sha256
    os.chmod(path / "model.txt", 0o644)
    (path / "model.txt").write_text("tampered\n")
    with pytest.raises(ArtifactError, match="changed after registration"):
        read_verified_model(str(path), sha)


def test_versions_count_up_from_one_and_ignore_non_integer_folders(tmp_path: Path) -> None:
    assert next_version(tmp_path, "baseline") == "1"
    write_artifact(tmp_path, manifest("1"), "t\n")
    (tmp_path / "baseline" / "experiment").mkdir()
    write_artifact(tmp_path, manifest("7"), "t\n")
    assert next_version(tmp_path, "baseline") == "8"


def test_a_manifest_in_the_wrong_folder_is_refused(tmp_path: Path) -> None:
    path = write_artifact(tmp_path, manifest("1"), "t\n")
    path.rename(tmp_path / "baseline" / "2")
    with pytest.raises(ArtifactError, match="lies in baseline/2"):
        find_manifests(tmp_path)


def test_the_artifacts_root_follows_the_override_then_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ARTIFACTS_ENV, str(tmp_path / "env"))
    assert artifacts_root(tmp_path / "explicit") == (tmp_path / "explicit").resolve()
    assert artifacts_root() == (tmp_path / "env").resolve()
    monkeypatch.delenv(ARTIFACTS_ENV)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dbt_project.yml").write_text("name: x\n")
    (tmp_path / "models").mkdir()
    monkeypatch.chdir(tmp_path / "models")
    assert artifacts_root() == tmp_path.resolve() / "artifacts" / "models"


def test_every_built_in_card_is_a_registry_entry() -> None:
    entries = builtin_entries()
    assert {(e.card.model_name, e.card.model_version) for e in entries} == set(BUILTIN_CARDS)
    assert {e.kind for e in entries} == {"builtin"}


def test_a_trained_entry_carries_its_metrics_reference_and_content_fingerprint(tmp_path: Path) -> None:
    write_artifact(tmp_path, manifest("1", retrain_event_ids=("rte-1",)), "t\n")
    [trained] = [e for e in registry_entries(tmp_path) if e.kind == "trained"]
    row = trained.row(RUN)
    assert row["holdout_mase"] == 0.7 and row["holdout_wape"] == 0.4 and row["retrain_event_ids"] == ["rte-1"]
    assert row["model_registry_source"].startswith("artifact:baseline/1#sha256=")
    assert json.loads(row["reference_distributions"])["period"]["end"] == "2025-07-15"
    assert row["artifact_uri"] == str(tmp_path / "baseline" / "1")


def test_registration_appends_new_versions_only_and_never_changes_a_row(tmp_path: Path) -> None:
    con = duckdb.connect()
    first = register_new_versions(con, artifacts_root=tmp_path, log_relation=None, run=RUN)
    assert first.num_rows == len(BUILTIN_CARDS)
    con.register("first_batch", first)
    con.sql("create table registry as select * from first_batch")
    assert register_new_versions(con, artifacts_root=tmp_path, log_relation="registry", run=RUN).num_rows == 0
    write_artifact(tmp_path, manifest("1"), "t\n")
    second = register_new_versions(con, artifacts_root=tmp_path, log_relation="registry", run=RUN)
    assert second.column("model_version").to_pylist() == ["1"]
    assert second.schema == first.schema


def test_the_projects_shipped_artefacts_are_registered_beside_the_root_and_number_the_next_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "trained_models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: p\n")
    write_artifact(project / "trained_models", manifest("1"), "shipped\n")
    monkeypatch.chdir(project)
    root = tmp_path / "artifacts"
    assert next_version(root, "baseline") == "2"
    write_artifact(root, manifest("2"), "trained here\n")
    trained = [(e.card.model_version, e.artifact_uri) for e in registry_entries(root) if e.kind == "trained"]
    # a shipped version is named relative to the project (a copied project registers the same row)
    assert trained == [("1", "trained_models/baseline/1"), ("2", str(root / "baseline" / "2"))]
    assert read_verified_model("trained_models/baseline/1", sha256_file(project / "trained_models" / "baseline" / "1" / "model.txt")) == "shipped\n"
    assert locate_version(root, "baseline", "1") == project / "trained_models" / "baseline" / "1"
    write_artifact(root, manifest("1"), "the same version twice\n")
    with pytest.raises(ArtifactError, match="a version lies in one place only"):
        registry_entries(root)
