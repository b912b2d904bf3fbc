"""The runner that configuration names: ``get_active_runner("product_insights", version=...)``.

The active version of each model is configured in ``dbt_project.yml`` under
``vars.active_model_versions``. dbt passes it to the scoring model; on-demand callers outside dbt
either pass ``version`` or let :func:`configured_version` read it from the project. A learned
built-in runner is added by registering its class for its version in :data:`RUNNERS`; a trained
version (``mrs train product_insights``) is a :class:`~mrs.insights.learned.LearnedModelRunner`
loaded from its artefact (:func:`runner_for_active` inside dbt, from the registered artefact).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import yaml

from mrs.insights.heuristic import HeuristicModelRunner
from mrs.insights.runner import FeatureSource, ModelRunner
from mrs.insights.schema import MODEL_NAME
from mrs.project import project_root
from mrs.versions import UnknownModelVersion, builtin_card, merged_model_versions

if TYPE_CHECKING:  # pragma: no cover
    from mrs.lifecycle.governance import ActiveVersion

RUNNERS: dict[tuple[str, str], Callable[..., ModelRunner]] = {
    (MODEL_NAME, "0"): HeuristicModelRunner,
}
"""(model name, version) → runner class. Version 0 is the heuristic."""

PROJECT_DIR_ENV = "MRS_PROJECT_DIR"
"""Environment variable naming the dbt project whose configuration is active."""


def find_project_dir(start: Path | None = None) -> Path | None:
    """The dbt project: ``$MRS_PROJECT_DIR``, else the nearest ``dbt_project.yml`` above ``start``
    (default: the working directory), else the project this package is installed from."""
    if os.environ.get(PROJECT_DIR_ENV):
        return Path(os.environ[PROJECT_DIR_ENV])
    package_root = Path(__file__).resolve().parents[3]  # src/mrs/insights/factory.py → project
    if (found := project_root(start)) is not None:
        return found
    return package_root if (package_root / "dbt_project.yml").is_file() else None


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
            f"{project_dir / 'dbt_project.yml'} has no vars.active_model_versions.{model_name} (nor vars.model_versions.{model_name})"
        )
    return str(versions[model_name])


def get_active_runner(
    model_name: str = MODEL_NAME,
    version: str | None = None,
    *,
    features: FeatureSource | None = None,
    project_dir: Path | None = None,
) -> ModelRunner:
    """The runner of ``model_name`` at ``version`` (default: the configured active version).

    Raises :class:`~mrs.versions.UnknownModelVersion` when the version has no model card or no
    runner implementation.
    """
    version = str(version) if version is not None else configured_version(model_name, project_dir)
    if (model_name, version) not in RUNNERS:
        trained = _trained_runner(model_name, version, features)
        if trained is not None:
            return trained
    builtin_card(model_name, version)  # an unknown version fails here, with what to do
    try:
        runner_class = RUNNERS[(model_name, version)]
    except KeyError:
        raise UnknownModelVersion(f"model {model_name!r} version {version!r} has no runner implementation") from None
    return runner_class(features=features)


def _trained_runner(model_name: str, version: str, features: FeatureSource | None) -> ModelRunner | None:
    """The trained artefact of ``version`` under the artefacts root, if there is one."""
    from mrs.insights.learned import LearnedModelRunner
    from mrs.lifecycle.artifacts import MANIFEST_FILE, artifacts_root, version_dir

    folder = version_dir(artifacts_root(), model_name, version)
    if model_name != MODEL_NAME or not (folder / MANIFEST_FILE).is_file():
        return None
    return LearnedModelRunner.from_artifact(folder, version, features=features)


def runner_for_active(active: "ActiveVersion") -> ModelRunner:
    """The runner of a version that passed the governance gate: the built-in runner of a built-in
    version, else the registered artefact, checked against the registry's SHA-256 values."""
    from mrs.insights.learned import LearnedModelRunner
    from mrs.lifecycle.artifacts import MANIFEST_FILE, ArtifactError, artifact_folder, sha256_file
    from mrs.lifecycle.registry import TRAINED

    version = active.card.model_version
    if active.kind != TRAINED:
        return get_active_runner(active.card.model_name, version)
    manifest = artifact_folder(active.artifact_uri or "") / MANIFEST_FILE
    if not manifest.is_file() or sha256_file(manifest) != active.registry_row["entry_fingerprint"]:
        raise ArtifactError(f"{manifest} is missing or differs from the registered manifest: versions are immutable; "
                            "train a new version")
    return LearnedModelRunner.from_artifact(artifact_folder(active.artifact_uri), version, active.artifact_sha256)
