"""``model_registry_log``: every model version a build has seen, append-only.

Two kinds of entries:

* ``builtin`` - the versions defined in code (:data:`mrs.versions.BUILTIN_CARDS`: version 0 of
  every model, the MVP behaviour, and its built-in variants), with their hard-coded cards;
* ``trained`` - every ``manifest.json`` under the artefacts root (:mod:`mrs.lifecycle.artifacts`),
  with its parameters, hold-out metrics and reference distributions.

The ``log_id`` of an entry is a hash of the model, the version and the entry's content
(``entry_fingerprint``), so a build appends only versions it has not seen; a registry row is never
changed. If an artefact were altered under an existing version, a second row would appear - the
registry's dbt test (one row per model version) and the activation gate both refuse that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import pyarrow as pa

from mrs.lifecycle.artifacts import Manifest, artifact_uri_of, find_all_manifests, sha256_file
from mrs.lifecycle.schemas import REGISTRY_LOG, keep_unlogged, stable_id, typed_table
from mrs.logs import ModelCard, RunContext
from mrs.versions import BUILTIN_CARDS

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

BUILTIN, TRAINED = "builtin", "trained"


@dataclass(frozen=True)
class RegistryEntry:
    """One registered model version: its card and what the registry records about it."""

    card: ModelCard
    kind: str
    entry_fingerprint: str
    artifact_uri: str | None = None
    artifact_sha256: str | None = None
    dataset_fingerprint: str | None = None
    training_rows: int | None = None
    data_start: date | None = None
    data_end: date | None = None
    features: tuple[str, ...] = ()
    parameters: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, Any] = field(default_factory=dict)
    #: ``{"period": {"start", "end"}, "features": {name: DistributionSummary dict}}`` of a trained version
    reference: Mapping[str, Any] | None = None
    retrain_event_ids: tuple[str, ...] = ()

    @property
    def log_id(self) -> str:
        return stable_id(self.card.model_name, self.card.model_version, self.entry_fingerprint)

    def row(self, run: RunContext) -> dict[str, Any]:
        metric = self.metrics.get
        return {
            "log_id": self.log_id,
            "model_name": self.card.model_name,
            "model_version": self.card.model_version,
            "model_kind": self.kind,
            "trained_on": self.card.trained_on,
            "model_registry_source": self.card.registry_source,
            "model_confidence_metric": self.card.confidence_metric,
            "description": self.card.description,
            "entry_fingerprint": self.entry_fingerprint,
            "artifact_uri": self.artifact_uri,
            "artifact_sha256": self.artifact_sha256,
            "dataset_fingerprint": self.dataset_fingerprint,
            "training_rows": self.training_rows,
            "data_start": self.data_start,
            "data_end": self.data_end,
            "features": list(self.features),
            "parameters": json.dumps(dict(self.parameters), sort_keys=True),
            "metrics": json.dumps(dict(self.metrics), sort_keys=True),
            "validation_wape": metric("validation_wape"),
            "holdout_wape": metric("holdout_wape"),
            "holdout_mase": metric("holdout_mase"),
            "holdout_relative_mae": metric("holdout_relative_mae"),
            "reference_distributions": None if self.reference is None else json.dumps(self.reference, sort_keys=True),
            "retrain_event_ids": list(self.retrain_event_ids),
            "run_id": run.run_id,
            "registered_at": run.scored_at,
        }


def builtin_entries() -> list[RegistryEntry]:
    """The versions defined in code. Their fingerprint ignores the free-text description."""
    return [
        RegistryEntry(
            card=card,
            kind=BUILTIN,
            entry_fingerprint=stable_id(
                BUILTIN, card.model_name, card.model_version, card.trained_on.isoformat(),
                card.registry_source, repr(card.confidence_metric),
            ),
        )
        for _, card in sorted(BUILTIN_CARDS.items())
    ]


def trained_registry_source(manifest: Manifest) -> str:
    """``model_registry_source`` of a trained version: its artefact, pinned by content."""
    return f"artifact:{manifest.model_name}/{manifest.model_version}#sha256={manifest.artifact_sha256[:12]}"


def manifest_entry(path: Path, manifest: Manifest) -> RegistryEntry:
    card = ModelCard(
        model_name=manifest.model_name,
        model_version=manifest.model_version,
        trained_on=manifest.trained_on,
        registry_source=trained_registry_source(manifest),
        confidence_metric=float(manifest.confidence_metric),
        description=manifest.description,
    )
    return RegistryEntry(
        card=card,
        kind=TRAINED,
        entry_fingerprint=sha256_file(path),
        artifact_uri=artifact_uri_of(path.parent),
        artifact_sha256=manifest.artifact_sha256,
        dataset_fingerprint=manifest.dataset_fingerprint,
        training_rows=manifest.training_rows,
        data_start=manifest.data_start,
        data_end=manifest.data_end,
        features=manifest.features,
        parameters=manifest.parameters,
        metrics=manifest.metrics,
        reference={"period": manifest.splits.get("train", {}), "features": manifest.reference},
        retrain_event_ids=manifest.retrain_event_ids,
    )


def registry_entries(artifacts_root: Path) -> list[RegistryEntry]:
    """Built-in versions, then every trained manifest of the project's trained_models/ and the artefacts root."""
    return builtin_entries() + [manifest_entry(path, m) for path, m in find_all_manifests(artifacts_root)]


def registry_batch(entries: list[RegistryEntry], run: RunContext) -> pa.Table:
    return typed_table((e.row(run) for e in entries), REGISTRY_LOG, "model_registry_log")


def register_new_versions(
    con: "duckdb.DuckDBPyConnection",
    *,
    artifacts_root: Path,
    log_relation: str | None,
    run: RunContext | None = None,
) -> pa.Table:
    """The ``model_registry_log`` step: the entries whose ``log_id`` is not logged yet."""
    batch = registry_batch(registry_entries(artifacts_root), run or RunContext.current())
    return keep_unlogged(con, batch, log_relation, "model_registry_log")
