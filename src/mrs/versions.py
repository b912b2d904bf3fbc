"""Model versions and the cards that describe them.

Version "0" of every model is the deterministic MVP behaviour built into the package (the
heuristic product-insights runner, the heuristic baseline and the narrative lookups for
detection, clustering and attribution). Its card is hard-coded here so it is reproducible.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from mrs.logs import ModelCard
from mrs.minority.cards import BASELINE_SIX_WEEK_CARD
from mrs.project import PROJECT_DIR_ENV, find_project_dir

MODEL_NAMES: tuple[str, ...] = (
    "product_insights",
    "baseline",
    "anomaly_classifier",
    "cluster_model",
    "attribution_model",
)

BUILTIN_REGISTRY_SOURCE = "builtin:mrs"
"""``model_registry_source`` of the version-0 models: defined in code, not trained."""

# The MVP models are defined, not trained: `trained_on` is the date their definition was fixed
# (the model-lifecycle design document's date), so it never moves between builds.
_MVP_DEFINED_ON = date(2025, 10, 12)

BUILTIN_CARDS: dict[tuple[str, str], ModelCard] = {
    ("product_insights", "0"): ModelCard(
        "product_insights",
        "0",
        _MVP_DEFINED_ON,
        f"{BUILTIN_REGISTRY_SOURCE}/insights.heuristic",
        0.5,
        "Deterministic heuristic runner: price trend, alert velocity and popularity.",
    ),
    ("baseline", "0"): ModelCard(
        "baseline",
        "0",
        _MVP_DEFINED_ON,
        f"{BUILTIN_REGISTRY_SOURCE}/minority.baseline",
        0.5,
        "MVP heuristic baseline: trailing same-weekday median with a trend term.",
    ),
    ("baseline", "0.1"): BASELINE_SIX_WEEK_CARD,
    ("anomaly_classifier", "0"): ModelCard(
        "anomaly_classifier",
        "0",
        _MVP_DEFINED_ON,
        f"{BUILTIN_REGISTRY_SOURCE}/minority.detection",
        1.0,
        "MVP classifier: surfaces the anomalies predefined in master_narratives.",
    ),
    ("cluster_model", "0"): ModelCard(
        "cluster_model",
        "0",
        _MVP_DEFINED_ON,
        f"{BUILTIN_REGISTRY_SOURCE}/minority.clustering",
        1.0,
        "MVP clustering: narrative cluster lookup with a computed shape similarity.",
    ),
    ("attribution_model", "0"): ModelCard(
        "attribution_model",
        "0",
        _MVP_DEFINED_ON,
        f"{BUILTIN_REGISTRY_SOURCE}/minority.attribution",
        1.0,
        "MVP attribution: narrative cause lookup with its static confidence.",
    ),
}


def merged_model_versions(defaults: Mapping[str, Any] | None, overrides: Mapping[str, Any] | None) -> dict[str, str]:
    """The version each model scores with: ``vars.model_versions`` (the project's full map) with
    ``vars.active_model_versions`` merged over it, so naming one model on the command line keeps
    the others' versions. The dbt side is the ``active_model_versions()`` macro."""
    merged = {str(k): str(v) for k, v in (defaults or {}).items()}
    merged.update({str(k): str(v) for k, v in (overrides or {}).items()})
    return merged


class UnknownModelVersion(LookupError):
    """The configuration names a model version that is not known."""


def builtin_card(model_name: str, version: str) -> ModelCard:
    try:
        return BUILTIN_CARDS[(model_name, str(version))]
    except KeyError:
        known = sorted(v for (m, v) in BUILTIN_CARDS if m == model_name)
        raise UnknownModelVersion(
            f"model {model_name!r} has no version {version!r} (known: {known}). "
            f"Set vars.active_model_versions.{model_name} in dbt_project.yml to a registered version."
        ) from None


def configured_version(model_name: str, project_dir: Path | None = None) -> str:
    """The version ``vars.active_model_versions[model_name]`` of the project's dbt_project.yml."""
    project_dir = project_dir or find_project_dir()
    if project_dir is None:
        raise UnknownModelVersion(
            f"no dbt_project.yml found to read the active version of {model_name!r}: "
            f"run inside the project, set {PROJECT_DIR_ENV}, or pass version="
        )
    config = yaml.safe_load((project_dir / "dbt_project.yml").read_text()) or {}
    project_vars = config.get("vars") or {}
    versions = merged_model_versions(project_vars.get("model_versions"), project_vars.get("active_model_versions"))
    if model_name not in versions:
        raise UnknownModelVersion(
            f"{project_dir / 'dbt_project.yml'} has no vars.active_model_versions.{model_name} "
            f"(nor vars.model_versions.{model_name})"
        )
    return str(versions[model_name])
