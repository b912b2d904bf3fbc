"""Training and evaluating the v1 minority-report models on simulated worlds (outside the DAG).

The seed sets are fixed here, up front, and never mixed:

* **train** — seeds 1000–1029 (20 stores × 15 SKUs, the demo size) and 1100–1102 (200 × 50):
  the classifier, the cluster model and the cause model are fitted on these;
* **validation** — seeds 2000–2004 (20 × 15) and 2100 (200 × 50): the classifier's isotonic
  calibration and its operating threshold (the one that maximises the mean of the pooled
  default-size F1 and the large-world F1 among those that find at least 90 % of the narratives;
  :func:`choose_threshold`) are chosen here;
* **hold-out** — seeds 9001–9003 (20 × 15) and 9100 (200 × 50): only scored, after every choice
  is made, for the figures written into the manifests (and printed by ``mrs evaluate minority``).

Labels come from the narratives of the training worlds only (see :mod:`mrs.minority.evaluation`).
"""

from __future__ import annotations

import base64
import hashlib
import io
import pickle
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pandas as pd

from mrs.minority.causes import CauseConfig, CauseModel
from mrs.minority.classifier import AnomalyClassifier, ClassifierConfig, candidate_features, merge_events
from mrs.minority.evaluation import EventFigures, event_figures, match_targets, target_index, zscore_peer_events
from mrs.minority.pipeline import describe, detect
from mrs.minority.scan import Cube, build_cube, candidates, scan
from mrs.minority.shapes import ClusterConfig, ClusterModel
from mrs.minority.worlds import LabelledWorld, labelled_world

if TYPE_CHECKING:  # pragma: no cover
    from mrs.lifecycle.artifacts import Manifest


@dataclass(frozen=True)
class WorldSpec:
    seed: int
    n_stores: int = 20
    n_skus: int = 15

    @property
    def label(self) -> str:
        return f"seed {self.seed} ({self.n_stores}x{self.n_skus})"


def _worlds(seeds: Iterable[int], n_stores: int = 20, n_skus: int = 15) -> tuple[WorldSpec, ...]:
    return tuple(WorldSpec(s, n_stores, n_skus) for s in seeds)


@dataclass(frozen=True)
class SeedPlan:
    """Which simulated worlds train, validate and hold out (see the module docstring)."""

    train: tuple[WorldSpec, ...] = _worlds(range(1000, 1030)) + _worlds(range(1100, 1103), 200, 50)
    validation: tuple[WorldSpec, ...] = _worlds(range(2000, 2005)) + _worlds([2100], 200, 50)
    holdout: tuple[WorldSpec, ...] = _worlds(range(9001, 9004)) + _worlds([9100], 200, 50)

    def __post_init__(self) -> None:
        sets = [set(self.train), set(self.validation), set(self.holdout)]
        seeds = [{w.seed for w in s} for s in sets]
        if seeds[0] & seeds[1] or seeds[0] & seeds[2] or seeds[1] & seeds[2]:
            raise ValueError("the train, validation and hold-out seed sets must not share a seed")

    def to_dict(self) -> dict:
        return {name: [w.label for w in getattr(self, name)] for name in ("train", "validation", "holdout")}


@dataclass
class LabelledCandidates:
    world: LabelledWorld
    cube: Cube
    candidates: np.ndarray
    features: pd.DataFrame
    labels: np.ndarray


def labelled_candidates(world: LabelledWorld, config: ClassifierConfig) -> LabelledCandidates:
    cube = build_cube(world.baseline, world.stores, world.skus)
    result = scan(cube, config.scan)
    cands = candidates(result, config.scan)
    features = candidate_features(result, cands, config.scan)
    matched = match_targets(cands[:, 0], cands[:, 1], cands[:, 1] + cands[:, 2] - 1, cands[:, 3], target_index(world, cube))
    return LabelledCandidates(world, cube, cands, features, matched >= 0)


def _group(spec: WorldSpec) -> str:
    return "default" if (spec.n_stores, spec.n_skus) == (20, 15) else f"{spec.n_stores}x{spec.n_skus}"


def choose_threshold(
    classifier: AnomalyClassifier, validation: Sequence[tuple[WorldSpec, LabelledCandidates]]
) -> tuple[float, dict]:
    """The operating threshold: the one maximising the mean over world-size groups of the pooled
    event F1, among the thresholds that find at least ``min_narrative_recall`` of the validation
    worlds' narratives (all sizes pooled; every threshold when none does). Among equal scores the
    highest threshold wins: the same validation figures with the fewest detections."""
    groups: dict[str, list[LabelledCandidates]] = {}
    for spec, lc in validation:
        groups.setdefault(_group(spec), []).append(lc)
    probs = {id(lc): classifier.probability(lc.features) for lcs in groups.values() for lc in lcs}
    scored: list[tuple[float, float, float, dict[str, float]]] = []  # (threshold, mean F1, narrative recall, F1 by size)
    for threshold in np.round(np.arange(0.05, 0.96, 0.05), 2):
        per_group, everything = {}, None
        for name, lcs in groups.items():
            total = None
            for lc in lcs:
                p = probs[id(lc)]
                fig, _ = event_figures(merge_events(lc.candidates, p, p >= threshold), target_index(lc.world, lc.cube))
                total = fig if total is None else total + fig
            assert total is not None, "every group holds at least one world"
            per_group[name] = total.f1
            everything = total if everything is None else everything + total
        assert everything is not None, "validation holds at least one world"
        scored.append((float(threshold), float(np.mean(list(per_group.values()))), everything.narrative_recall, per_group))
    threshold, _, narrative_recall, per_group = pick_threshold(scored, classifier.config.min_narrative_recall)
    return threshold, {"validation_f1_by_size": per_group, "validation_narrative_recall": narrative_recall}


ScoredThreshold = TypeVar("ScoredThreshold", bound=tuple)


def pick_threshold(scored: Sequence[ScoredThreshold], min_narrative_recall: float) -> ScoredThreshold:
    """The rule of :func:`choose_threshold` over ``(threshold, mean F1, narrative recall, ...)``
    tuples: the best mean F1 among those with the narrative recall asked for (among all when none
    has it); the higher threshold on a tie."""
    eligible = [s for s in scored if s[2] >= min_narrative_recall] or list(scored)
    return max(eligible, key=lambda s: (s[1], s[0]))


@dataclass
class MinorityModels:
    classifier: AnomalyClassifier
    cluster_model: ClusterModel | None
    cause_model: CauseModel | None


def _loader(world_cache):
    return world_cache or (lambda spec: labelled_world(spec.seed, spec.n_stores, spec.n_skus))


def train_classifier(
    plan: SeedPlan = SeedPlan(), config: ClassifierConfig = ClassifierConfig(), world_cache=None, progress=print
) -> tuple[AnomalyClassifier, dict]:
    """Fit on ``plan.train``; calibrate and choose the operating threshold on ``plan.validation``."""
    load = _loader(world_cache)
    train = [labelled_candidates(load(spec), config) for spec in plan.train]
    n, pos = sum(len(t.labels) for t in train), sum(int(t.labels.sum()) for t in train)
    progress(f"anomaly_classifier: {n} training candidates, {pos} of them anomalies")
    classifier = AnomalyClassifier.fit(
        pd.concat([t.features for t in train], ignore_index=True), np.concatenate([t.labels for t in train]), config
    )
    validation = [(spec, labelled_candidates(load(spec), config)) for spec in plan.validation]
    classifier.calibrate(
        pd.concat([v.features for _, v in validation], ignore_index=True), np.concatenate([v.labels for _, v in validation])
    )
    classifier.threshold, notes = choose_threshold(classifier, validation)
    # the detection rate monitoring compares each build with: events per scored pair x day on validation
    events = sum(
        len(merge_events(v.candidates, p, p >= classifier.threshold))
        for _, v in validation
        for p in [classifier.probability(v.features)]
    )
    pair_days = sum(int(np.isfinite(v.cube.actual).sum()) for _, v in validation)
    notes |= {"detections_per_pair_day": events / pair_days, "scored_pair_days": pair_days}
    progress(
        f"anomaly_classifier: operating threshold {classifier.threshold} "
        f"(validation F1 by size {notes['validation_f1_by_size']}, narratives found {notes['validation_narrative_recall']:.3f})"
    )
    return classifier, {"training_candidates": n, "training_anomalies": pos, **notes}


@dataclass
class TrainingDetections:
    """The classifier's detections on one training world, described, with their labels."""

    shapes: pd.DataFrame
    cause_features: pd.DataFrame
    true_positive: np.ndarray
    cluster_truth: np.ndarray
    cause_truth: np.ndarray


def training_detections(classifier: AnomalyClassifier, specs: Sequence[WorldSpec], world_cache=None) -> list[TrainingDetections]:
    load = _loader(world_cache)
    out = []
    for spec in specs:
        world = load(spec)
        det = detect(world.baseline, world.stores, world.skus, classifier)
        desc = describe(
            det,
            campaigns=world.campaigns,
            context_events=world.context_events,
            stores=world.stores,
            skus=world.skus,
            cluster_model=None,
            cause_model=None,
        )
        targets = target_index(world, det.cube)
        _, matched = event_figures(det.events, targets)
        tp = matched >= 0
        out.append(
            TrainingDetections(desc.shapes, desc.cause_features, tp, targets.cluster[matched[tp]], targets.cause[matched[tp]])
        )
    return out


def train_cluster_model(detections: Sequence[TrainingDetections], config: ClusterConfig = ClusterConfig()) -> ClusterModel:
    """Unsupervised: every detection's shape, the labels unused."""
    return ClusterModel.fit(pd.concat([d.shapes for d in detections], ignore_index=True), config)


def train_cause_model(detections: Sequence[TrainingDetections], config: CauseConfig = CauseConfig()) -> CauseModel:
    """Supervised on the true-positive detections' narrative cause types."""
    features = pd.concat([d.cause_features[d.true_positive] for d in detections], ignore_index=True)
    return CauseModel.fit(features, np.concatenate([d.cause_truth for d in detections]), config)


@dataclass
class WorldFigures:
    spec: WorldSpec
    v1: EventFigures
    peer: EventFigures
    cluster_truth: np.ndarray
    cluster_predicted: np.ndarray
    cause_truth: np.ndarray
    cause_predicted: np.ndarray
    probability: np.ndarray
    candidate_labels: np.ndarray


def evaluate_world(models: MinorityModels, world: LabelledWorld, spec: WorldSpec) -> WorldFigures:
    """Every figure of one world; the narratives are read only to score the outputs."""
    det = detect(world.baseline, world.stores, world.skus, models.classifier)
    desc = describe(
        det,
        campaigns=world.campaigns,
        context_events=world.context_events,
        stores=world.stores,
        skus=world.skus,
        cluster_model=models.cluster_model,
        cause_model=models.cause_model,
    )
    targets = target_index(world, det.cube)
    figures, matched = event_figures(det.events, targets)
    peer_events = zscore_peer_events(det.cube, models.classifier.config.scan.min_history_days, units=world.daily_units)
    peer, _ = event_figures(peer_events, targets)
    tp = matched >= 0
    cand_matched = match_targets(
        det.candidates[:, 0], det.candidates[:, 1], det.candidates[:, 1] + det.candidates[:, 2] - 1, det.candidates[:, 3], targets
    )
    none = np.array([], dtype=object)
    return WorldFigures(
        spec,
        figures,
        peer,
        targets.cluster[matched[tp]],
        desc.clusters["cluster_name"].to_numpy()[tp] if models.cluster_model else none,
        targets.cause[matched[tp]],
        desc.causes["cause_type"].to_numpy()[tp] if models.cause_model else none,
        det.probability,
        cand_matched >= 0,
    )


def summarise(results: Sequence[WorldFigures]) -> dict:
    """Per world and pooled per world size: event figures (v1 and peer), ARI, cause top-1, PR-AUC."""
    from sklearn.metrics import adjusted_rand_score, average_precision_score

    out: dict = {"worlds": {}, "pooled": {}}
    for r in results:
        out["worlds"][r.spec.label] = {"v1": r.v1.as_dict(), "zscore_peer": r.peer.as_dict()}
    groups: dict[str, list[WorldFigures]] = {}
    for r in results:
        groups.setdefault(_group(r.spec), []).append(r)
    for name, rs in [*groups.items(), ("all", list(results))]:
        v1 = rs[0].v1
        peer = rs[0].peer
        for r in rs[1:]:
            v1, peer = v1 + r.v1, peer + r.peer
        ct = np.concatenate([r.cluster_truth for r in rs])
        cp = np.concatenate([r.cluster_predicted for r in rs])
        at = np.concatenate([r.cause_truth for r in rs])
        ap = np.concatenate([r.cause_predicted for r in rs])
        labels = np.concatenate([r.candidate_labels for r in rs])
        prob = np.concatenate([r.probability for r in rs])
        out["pooled"][name] = {
            "v1": v1.as_dict(),
            "zscore_peer": peer.as_dict(),
            "candidate_pr_auc": round(float(average_precision_score(labels, prob)), 4) if labels.any() else None,
            "cluster_ari": round(float(adjusted_rand_score(ct, cp)), 4) if ct.size and cp.size == ct.size else None,
            "cause_top1": round(float(np.mean(at == ap)), 4) if at.size and ap.size == at.size else None,
            "true_positive_detections": int(ct.size),
        }
    return out


def evaluate(models: MinorityModels, specs: Sequence[WorldSpec], world_cache=None) -> dict:
    load = _loader(world_cache)
    return summarise([evaluate_world(models, load(spec), spec) for spec in specs])


def model_text(obj: object) -> str:
    """A fitted model as text for ``model.txt``: base64 of its pickle (the artefact's SHA-256,
    checked on load, pins it; scikit-learn models have no portable text format)."""
    buffer = io.BytesIO()
    pickle.dump(obj, buffer, protocol=5)
    return base64.b64encode(buffer.getvalue()).decode("ascii") + "\n"


ModelT = TypeVar("ModelT")


def model_from_text(text: str, kind: type[ModelT]) -> ModelT:
    """The model :func:`model_text` wrote, checked to be a ``kind`` (the class its model name fits)."""
    from mrs.lifecycle.artifacts import ArtifactError

    model = pickle.loads(base64.b64decode(text.strip()))
    if not isinstance(model, kind):
        raise ArtifactError(f"the artefact holds a {type(model).__name__}, not the {kind.__name__} its model name expects")
    return model


def plan_fingerprint(plan: SeedPlan) -> str:
    return hashlib.sha256(repr(plan.to_dict()).encode()).hexdigest()


TRAINED_ON = date(2025, 8, 12)
"""The simulated worlds' last day: the data time the v1 models were trained on."""


def write_model_artifact(
    root,
    model_name: str,
    obj: object,
    *,
    plan: SeedPlan,
    description: str,
    features: Sequence[str],
    parameters: dict,
    metrics: dict,
    training_rows: int,
    confidence_metric: float,
    reference: dict | None = None,
):
    """Write a v1 model as the next immutable version under the artefacts root (lifecycle layout)."""
    from mrs.lifecycle.artifacts import Manifest, next_version, write_artifact
    from mrs.simulate.config import DEFAULT_END, DEFAULT_START

    manifest = Manifest(
        model_name=model_name,
        model_version=next_version(root, model_name),
        trained_on=TRAINED_ON,
        description=description,
        dataset_fingerprint=plan_fingerprint(plan),
        training_rows=int(training_rows),
        data_start=DEFAULT_START,
        data_end=DEFAULT_END,
        features=tuple(features),
        categorical_levels={},
        parameters=parameters,
        metrics=metrics,
        # every simulated world covers the same calendar (the period monitoring reads as "train")
        splits={
            name: {"start": DEFAULT_START.isoformat(), "end": DEFAULT_END.isoformat(), "worlds": worlds}
            for name, worlds in plan.to_dict().items()
        },
        reference=reference or {},
        confidence_metric=float(confidence_metric),
    )
    return write_artifact(root, manifest, model_text(obj))


def load_model_artifact(root, model_name: str, kind: type[ModelT], version: str | None = None) -> tuple[ModelT, Manifest]:
    """(model, manifest) of a trained v1 version (default: the highest), checked by SHA-256."""
    from mrs.lifecycle.artifacts import ArtifactError, find_all_manifests, read_verified_model

    found = [(p, m) for p, m in find_all_manifests(root) if m.model_name == model_name]
    if version is not None:
        found = [(p, m) for p, m in found if m.model_version == str(version)]
    if not found:
        raise ArtifactError(
            f"no trained {model_name!r} version {version or '(any)'} under {root}: run `mrs train {model_name}` first"
        )
    path, manifest = max(found, key=lambda pm: (len(pm[1].model_version), pm[1].model_version))  # the highest version
    return model_from_text(read_verified_model(str(path.parent), manifest.artifact_sha256), kind), manifest
