"""``mrs train anomaly_classifier|cluster_model|attribution_model`` and ``mrs evaluate minority``.

Training simulates the fixed seed sets of :class:`mrs.minority.training.SeedPlan` (never a
warehouse's data), fits the named v1 model, scores the hold-out worlds once and writes the model
with its manifest (hold-out metrics included) as the next immutable version under the artefacts
root. ``cluster_model`` and ``attribution_model`` describe the detections of the latest trained
``anomaly_classifier``, so train that first.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from mrs.cli_options import emit, json_option
from mrs.minority.causes import CauseModel
from mrs.minority.classifier import AnomalyClassifier
from mrs.minority.shapes import ClusterModel
from mrs.minority.training import (
    MinorityModels,
    SeedPlan,
    WorldSpec,
    evaluate,
    load_model_artifact,
    train_cause_model,
    train_classifier,
    train_cluster_model,
    training_detections,
    write_model_artifact,
)
from mrs.minority.worlds import cached_loader

MINORITY_TRAINABLE: tuple[str, ...] = ("anomaly_classifier", "cluster_model", "attribution_model")


def _pooled_metrics(summary: dict, keys: tuple[str, ...]) -> dict:
    return {group: {k: v for k, v in figures.items() if k in keys} for group, figures in summary["pooled"].items()}


def train_minority_model(
    model: str, root: Path, *, seed: int = 0, world_cache: str | None = None, echo=print, plan: SeedPlan | None = None
) -> Path:
    """Train ``model`` (one of :data:`MINORITY_TRAINABLE`) and write its artefact; returns its folder."""
    from dataclasses import replace

    from mrs.minority.causes import CauseConfig
    from mrs.minority.classifier import FEATURES, ClassifierConfig
    from mrs.minority.shapes import SHAPE_FEATURES, ClusterConfig

    plan, load = plan or SeedPlan(), cached_loader(world_cache)
    if model == "anomaly_classifier":
        config = replace(ClassifierConfig(), random_state=seed)
        classifier, notes = train_classifier(plan, config, world_cache=load, progress=echo)
        summary = evaluate(MinorityModels(classifier, None, None), plan.holdout, world_cache=load)
        metrics = {
            "holdout": _pooled_metrics(summary, ("v1", "zscore_peer", "candidate_pr_auc")),
            "worlds": summary["worlds"],
            **notes,
        }
        path = write_model_artifact(
            root,
            model,
            classifier,
            plan=plan,
            features=FEATURES,
            description="Gradient-boosted classifier over count-aware scan candidates on pairs and slices (isotonic-calibrated)",
            parameters={**config.to_dict(), "threshold": classifier.threshold},
            metrics=metrics,
            training_rows=notes["training_candidates"],
            confidence_metric=float(summary["pooled"]["all"]["candidate_pr_auc"] or 0.0),
        )
    else:
        classifier, manifest = load_model_artifact(root, "anomaly_classifier", AnomalyClassifier)
        echo(f"{model}: describing the detections of anomaly_classifier version {manifest.model_version}")
        detections = training_detections(classifier, plan.train, world_cache=load)
        fitted: ClusterModel | CauseModel
        if model == "cluster_model":
            cluster_config = replace(ClusterConfig())
            cluster_model = train_cluster_model(detections, cluster_config)
            fitted, parameters = cluster_model, cluster_config.to_dict()
            models, keys, features = (
                MinorityModels(classifier, cluster_model, None),
                ("cluster_ari", "true_positive_detections"),
                SHAPE_FEATURES,
            )
            description = f"HDBSCAN clusters of incident shapes: {', '.join(cluster_model.names)}"
        else:
            cause_config = replace(CauseConfig(), random_state=seed)
            cause_model = train_cause_model(detections, cause_config)
            fitted, parameters = cause_model, cause_config.to_dict()
            models, keys, features = (
                MinorityModels(classifier, None, cause_model),
                ("cause_top1", "true_positive_detections"),
                cause_model.features,
            )
            description = (
                "Gradient-boosted ranking of cause types from overlapping campaigns and context events (their kind, "
                "scope and timing against the event), direction and shape"
            )
        summary = evaluate(models, plan.holdout, world_cache=load)
        metrics = {"holdout": _pooled_metrics(summary, keys), "anomaly_classifier_version": manifest.model_version}
        score = summary["pooled"]["all"][keys[0]] or 0.0
        path = write_model_artifact(
            root,
            model,
            fitted,
            plan=plan,
            features=features,
            description=description,
            parameters={**parameters, "anomaly_classifier_version": manifest.model_version},
            metrics=metrics,
            training_rows=int(sum(len(d.shapes) for d in detections)),
            confidence_metric=float(max(0.0, min(1.0, score))),
        )
    echo(json.dumps(json.loads((path / "manifest.json").read_text())["metrics"].get("holdout", {}), indent=1))
    return path


def _seeds(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = (int(x) for x in part.split("-"))
            seeds += list(range(lo, hi + 1))
        elif part:
            seeds.append(int(part))
    return seeds


def format_summary(summary: dict, versions: dict[str, str] | None = None) -> str:
    """The figures as text: a row per world and per pooled group, the learned stages' ("model",
    the JSON's ``v1`` key) beside the z-score peer's; first the versions evaluated, when given."""

    def row(name: str, f: dict) -> str:
        v, z = f["v1"], f["zscore_peer"]
        return (
            f"{name:<22} model P {v['event_precision']:.3f} R {v['event_recall']:.3f} F1 {v['event_f1']:.3f} "
            f"narratives {v['narrative_recall']:.3f} | z-score peer P {z['event_precision']:.3f} "
            f"R {z['event_recall']:.3f} F1 {z['event_f1']:.3f} narratives {z['narrative_recall']:.3f}"
        )

    lines = [f"versions: {', '.join(f'{m} {v}' for m, v in versions.items())}"] if versions else []
    lines += [row(name, f) for name, f in summary["worlds"].items()]
    for name, f in summary["pooled"].items():
        lines.append(row(f"pooled {name}", f))
        lines.append(
            f"{'':<22} cluster ARI {f['cluster_ari']}  cause top-1 {f['cause_top1']}  "
            f"on {f['true_positive_detections']} true-positive detections; candidate PR-AUC {f['candidate_pr_auc']}"
        )
    return "\n".join(lines)


@click.command("minority")
@click.option("--seeds", default="9001-9003", show_default=True, help="World seeds: 9001,9002 or 9001-9003.")
@click.option("--stores", type=click.IntRange(min=4), default=20, show_default=True)
@click.option("--skus", type=click.IntRange(min=6), default=15, show_default=True)
@click.option(
    "--artifacts-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Artefacts root.  [default: $MRS_ARTIFACTS_DIR or artifacts/models of the project]",
)
@click.option("--classifier-version", default=None, help="anomaly_classifier version [default: the highest trained].")
@click.option("--cluster-version", default=None, help="cluster_model version [default: the highest trained].")
@click.option("--attribution-version", default=None, help="attribution_model version [default: the highest trained].")
@click.option("--world-cache", type=click.Path(file_okay=False), default=None, help="Keep simulated worlds here.")
@json_option
def evaluate_minority(
    seeds: str,
    stores: int,
    skus: int,
    artifacts_dir: Path | None,
    classifier_version: str | None,
    cluster_version: str | None,
    attribution_version: str | None,
    world_cache: str | None,
) -> None:
    """Simulate the worlds, run the v1 stages with the narratives withheld, and print event
    precision / recall / F1 per world and pooled, narrative recall, cluster ARI and cause top-1,
    beside an Elementary-style z-score peer (|z| >= 3 against the 28 preceding days)."""
    from mrs.lifecycle.artifacts import ArtifactError, artifacts_root

    root = artifacts_root(artifacts_dir)
    try:
        loaded = (
            load_model_artifact(root, "anomaly_classifier", AnomalyClassifier, classifier_version),
            load_model_artifact(root, "cluster_model", ClusterModel, cluster_version),
            load_model_artifact(root, "attribution_model", CauseModel, attribution_version),
        )
    except ArtifactError as exc:
        raise click.ClickException(str(exc)) from exc
    models = MinorityModels(loaded[0][0], loaded[1][0], loaded[2][0])
    versions = {manifest.model_name: manifest.model_version for _, manifest in loaded}
    specs = [WorldSpec(s, stores, skus) for s in _seeds(seeds)]
    if not specs:
        raise click.ClickException("--seeds names no world")
    summary = evaluate(models, specs, world_cache=cached_loader(world_cache))
    emit(summary | {"versions": versions}, lambda: format_summary(summary, versions))
