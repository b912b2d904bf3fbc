"""Training the v1 minority-report models on (tiny) simulated seed sets, and `mrs evaluate minority`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from mrs.cli import main
from mrs.minority.classifier import AnomalyClassifier
from mrs.minority.cli import train_minority_model
from mrs.minority.training import SeedPlan, WorldSpec, load_model_artifact, pick_threshold

TINY = SeedPlan(
    train=(WorldSpec(1000), WorldSpec(1001), WorldSpec(1002), WorldSpec(1003)),
    validation=(WorldSpec(2000),),
    holdout=(WorldSpec(9001),),
)


def test_the_threshold_keeps_the_narratives_asked_for_before_it_maximises_f1():
    scored = [(0.3, 0.77, 1.0), (0.4, 0.77, 1.0), (0.5, 0.78, 0.85), (0.6, 0.70, 0.80)]
    assert pick_threshold(scored, 0.9)[0] == 0.4  # 0.5 has the best F1 but finds 85 % of the narratives
    assert pick_threshold(scored, 0.0)[0] == 0.5  # version 1's rule: F1 alone
    assert pick_threshold(scored, 1.1)[0] == 0.5  # none finds enough: F1 alone, not no threshold
    assert pick_threshold([(0.2, 0.7, 1.0), (0.3, 0.7, 1.0)], 0.9)[0] == 0.3  # a tie: the fewer detections


def test_seed_sets_must_not_overlap():
    with pytest.raises(ValueError, match="must not share"):
        SeedPlan(train=(WorldSpec(1),), validation=(WorldSpec(1),), holdout=(WorldSpec(2),))


@pytest.mark.integration
def test_trained_models_are_immutable_versions_and_evaluate_prints_every_figure(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # outside the project: its shipped trained_models/ are not in the way
    root, cache = tmp_path / "artifacts", str(tmp_path / "worlds")
    for model in ("anomaly_classifier", "cluster_model", "attribution_model"):
        path = train_minority_model(model, root, world_cache=cache, plan=TINY, echo=lambda _: None)
        manifest = json.loads((path / "manifest.json").read_text())
        assert manifest["model_version"] == "1" and manifest["splits"]["holdout"]["worlds"] == ["seed 9001 (20x15)"]
        assert 0.0 <= manifest["confidence_metric"] <= 1.0
    classifier, manifest = load_model_artifact(root, "anomaly_classifier", AnomalyClassifier)
    assert 0.0 < classifier.threshold < 1.0
    assert "event_f1" in manifest.metrics["holdout"]["default"]["v1"]

    result = CliRunner().invoke(
        main, ["evaluate", "minority", "--seeds", "9001", "--artifacts-dir", str(root), "--world-cache", cache, "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    pooled = summary["pooled"]["default"]
    assert set(pooled) >= {"v1", "zscore_peer", "cluster_ari", "cause_top1", "candidate_pr_auc"}
    assert pooled["v1"]["event_recall"] > 0.3  # the tiny model still finds anomalies nobody wrote down
    text = CliRunner().invoke(
        main, ["evaluate", "minority", "--seeds", "9001", "--artifacts-dir", str(root), "--world-cache", cache]
    )
    assert "z-score peer" in text.output and "cluster ARI" in text.output
    assert "versions: anomaly_classifier 1, cluster_model 1, attribution_model 1" in text.output
    assert summary["versions"] == {"anomaly_classifier": "1", "cluster_model": "1", "attribution_model": "1"}


def test_evaluate_without_trained_models_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["evaluate", "minority", "--artifacts-dir", str(tmp_path)])
    assert result.exit_code != 0 and "mrs train anomaly_classifier" in result.output


def test_each_shipped_attribution_version_ranks_on_the_features_it_was_fitted_on():
    # version 1 was pickled before a CauseModel named its features: it reads the class default
    # (no timing); version 2 ranks on the timing of its evidence too. Both rank the same frame.
    from pathlib import Path

    import numpy as np
    import pandas as pd

    from mrs.minority.causes import FEATURES, FEATURES_WITH_TIMING, NO_RECORD_DAYS, CauseModel

    shipped = Path(__file__).resolve().parents[1] / "trained_models"
    v1, m1 = load_model_artifact(shipped, "attribution_model", CauseModel, "1")
    v2, m2 = load_model_artifact(shipped, "attribution_model", CauseModel, "2")
    assert v1.features == FEATURES and tuple(m1.features) == FEATURES
    assert v2.features == FEATURES_WITH_TIMING and tuple(m2.features) == FEATURES_WITH_TIMING
    frame = pd.DataFrame(np.zeros((2, len(FEATURES_WITH_TIMING))), columns=list(FEATURES_WITH_TIMING))
    frame.loc[0, ["campaigns", "campaign_start_gap_days", "campaign_days_past_end"]] = (1.0, 0.0, 10.0)
    frame.loc[1, [c for c in FEATURES_WITH_TIMING if c.endswith("_start_gap_days")]] = NO_RECORD_DAYS
    frame.loc[1, [c for c in FEATURES_WITH_TIMING if c.endswith("_days_past_end")]] = -NO_RECORD_DAYS
    for model in (v1, v2):
        ranked = model.rank(frame)
        assert len(ranked) == 2 and ranked["confidence"].between(0.0, 1.0).all()
        assert ranked["cause_type"][1] == "unexplained"  # no overlapping evidence at all
