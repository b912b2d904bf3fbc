"""The runner that configuration names: ``get_active_runner("product_insights", version=...)``.

The active version of each model is configured in ``dbt_project.yml`` under
``vars.active_model_versions``. dbt passes it to the scoring model; on-demand callers outside dbt
either pass ``version`` or let :func:`mrs.versions.configured_version` read it from the project. A learned
built-in runner is added by registering its class for its version in :data:`RUNNERS`; a trained
version (``mrs train product_insights``) is a :class:`~mrs.insights.learned.LearnedModelRunner`
loaded from its artefact (:func:`runner_for_active` inside dbt, from the registered artefact).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from mrs.insights.heuristic import HeuristicModelRunner
from mrs.insights.runner import FeatureSource, ModelRunner
from mrs.insights.schema import MODEL_NAME
from mrs.versions import UnknownModelVersion, builtin_card, configured_version

if TYPE_CHECKING:  # pragma: no cover
    from mrs.lifecycle.governance import ActiveVersion

RUNNERS: dict[tuple[str, str], Callable[..., ModelRunner]] = {
    (MODEL_NAME, "0"): HeuristicModelRunner,
}
"""(model name, version) → runner class. Version 0 is the heuristic."""


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


def runner_for_active(active: ActiveVersion) -> ModelRunner:
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
        raise ArtifactError(
            f"{manifest} is missing or differs from the registered manifest: versions are immutable; train a new version"
        )
    return LearnedModelRunner.from_artifact(manifest.parent, version, active.artifact_sha256)
