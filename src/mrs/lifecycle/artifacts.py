"""Trained artefacts on disk: ``<artifacts root>/<model_name>/<version>/{model.txt, manifest.json}``.

A version folder is written once, atomically (into a hidden temporary folder, then renamed) and
never overwritten: a new training run is a new version. The manifest says what the artefact is
(version, ``trained_on``, the training data's fingerprint, parameters, metrics, the reference
distributions drift monitoring compares against, the feature list) and carries the SHA-256 of
``model.txt`` so whoever loads it can check it is the registered artefact.

The root is, in order: an explicit path, ``$MRS_ARTIFACTS_DIR``, ``artifacts/models`` of the dbt
project around the current directory (gitignored), else ``./artifacts/models``.

Beside it, ``trained_models/`` of the project holds the artefacts the project ships (committed,
same layout, e.g. the demo's minority-report models): the registry reads both, a new training run
numbers its version after the versions of both, and a version lies in one of them only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from mrs.project import project_root

ARTIFACTS_ENV = "MRS_ARTIFACTS_DIR"
"""Environment variable overriding where trained artefacts live."""

DEFAULT_ARTIFACTS_SUBDIR = Path("artifacts") / "models"
SHIPPED_ARTIFACTS_SUBDIR = Path("trained_models")
"""The project's committed artefacts (read beside the artefacts root)."""
MANIFEST_FILE = "manifest.json"
MODEL_FILE = "model.txt"
MANIFEST_SCHEMA_VERSION = 1


class ArtifactError(RuntimeError):
    """An artefact is missing, already exists, or is not what was registered."""


def artifacts_root(override: str | Path | None = None) -> Path:
    """Where artefacts live (see the module docstring for the order of precedence)."""
    chosen = override or os.environ.get(ARTIFACTS_ENV)
    if chosen:
        return Path(chosen).expanduser().resolve()
    return (project_root() or Path.cwd().resolve()) / DEFAULT_ARTIFACTS_SUBDIR


@dataclass(frozen=True)
class Manifest:
    """What a trained artefact is. Written beside ``model.txt``; read by the registry."""

    model_name: str
    model_version: str
    #: the last day of the data the model was trained on (data time, so it is reproducible)
    trained_on: date
    description: str
    #: fingerprint of the training extract (every row and column used, order-independent)
    dataset_fingerprint: str
    training_rows: int
    data_start: date
    data_end: date
    features: tuple[str, ...]
    categorical_levels: dict[str, list[str]]
    parameters: dict[str, Any]
    metrics: dict[str, Any]
    splits: dict[str, dict[str, Any]]
    #: per feature: the training distribution summary drift monitoring compares against
    reference: dict[str, dict[str, Any]]
    #: ``model_confidence_metric`` of every row the version scores
    confidence_metric: float
    artifact_sha256: str = ""
    #: the retrain events this version answers (``mrs retrain``); empty for a plain ``mrs train``
    retrain_event_ids: tuple[str, ...] = ()
    library: dict[str, str] = field(default_factory=dict)
    schema_version: int = MANIFEST_SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("trained_on", "data_start", "data_end"):
            data[key] = data[key].isoformat()
        data["features"] = list(self.features)
        data["retrain_event_ids"] = list(self.retrain_event_ids)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Manifest":
        values = dict(data)
        for key in ("trained_on", "data_start", "data_end"):
            values[key] = date.fromisoformat(values[key])
        values["features"] = tuple(values["features"])
        values["retrain_event_ids"] = tuple(values.get("retrain_event_ids", ()))
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in values.items() if k in known})


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def version_dir(root: Path, model_name: str, version: str) -> Path:
    return root / model_name / str(version)


def shipped_artifacts_root() -> Path | None:
    """``trained_models/`` of the dbt project around the current directory (None outside one)."""
    root = project_root()
    return root / SHIPPED_ARTIFACTS_SUBDIR if root else None


def artifact_uri_of(version_folder: Path) -> str:
    """How the registry names a version folder: relative to the project (``trained_models/<model>/<version>``)
    when the project ships it, so a copied or moved project registers the same rows; absolute otherwise."""
    shipped = shipped_artifacts_root()
    if shipped is not None:
        try:
            return version_folder.resolve().relative_to(shipped.resolve().parent).as_posix()
        except ValueError:
            pass
    return str(version_folder)


def artifact_folder(artifact_uri: str) -> Path:
    """The version folder a registered ``artifact_uri`` names (a relative one is the project's)."""
    path = Path(artifact_uri)
    if path.is_absolute():
        return path
    root = project_root()
    return root / path if root else path


def artifact_roots(root: Path) -> tuple[Path, ...]:
    """The shipped root (when there is one), then ``root``: where trained versions are found."""
    shipped = shipped_artifacts_root()
    if shipped is None or not shipped.is_dir() or shipped.resolve() == root.resolve():
        return (root,)
    return (shipped, root)


def locate_version(root: Path, model_name: str, version: str) -> Path:
    """The folder of a trained version: under ``root``, else under the shipped root (``root``'s
    folder when neither has it)."""
    for candidate in reversed(artifact_roots(root)):
        if (version_dir(candidate, model_name, version) / MANIFEST_FILE).is_file():
            return version_dir(candidate, model_name, version)
    return version_dir(root, model_name, version)


def next_version(root: Path, model_name: str) -> str:
    """The next integer version of a model: one more than the highest integer folder under the
    artefacts root and the shipped root (at least 1; version 0 is the built-in MVP model)."""
    taken = [
        int(p.name)
        for base in artifact_roots(root)
        if (base / model_name).is_dir()
        for p in (base / model_name).iterdir()
        if p.is_dir() and re.fullmatch(r"\d+", p.name)
    ]
    return str(max([0, *taken]) + 1)


def write_artifact(root: Path, manifest: Manifest, model_text: str) -> Path:
    """Write ``model.txt`` and ``manifest.json`` (with the model's SHA-256) as a new version folder.

    Raises :class:`ArtifactError` if the version exists: versions are immutable.
    """
    target = version_dir(root, manifest.model_name, manifest.model_version)
    if target.exists():
        raise ArtifactError(
            f"{target} exists: model {manifest.model_name!r} version {manifest.model_version!r} is already "
            "trained, and versions are immutable. Train a new version instead."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.partial-{os.getpid()}"
    staging.mkdir()
    (staging / MODEL_FILE).write_text(model_text)
    final = replace(manifest, artifact_sha256=sha256_file(staging / MODEL_FILE))
    (staging / MANIFEST_FILE).write_text(final.to_json())
    for path in (staging / MODEL_FILE, staging / MANIFEST_FILE):
        path.chmod(0o444)
    try:
        os.rename(staging, target)  # atomic; fails if another run created the version meanwhile
    except OSError as exc:
        raise ArtifactError(f"could not create {target}: {exc}") from exc
    return target


def read_manifest(path: Path) -> Manifest:
    try:
        return Manifest.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"{path}: not a readable model manifest ({exc})") from exc


def find_all_manifests(root: Path) -> list[tuple[Path, Manifest]]:
    """:func:`find_manifests` of the shipped root and of ``root``; a version in both is an error."""
    found: list[tuple[Path, Manifest]] = []
    seen: dict[tuple[str, str], Path] = {}
    for base in artifact_roots(root):
        for path, manifest in find_manifests(base):
            key = (manifest.model_name, manifest.model_version)
            if key in seen:
                raise ArtifactError(
                    f"{manifest.model_name!r} version {manifest.model_version!r} is both {seen[key]} and {path}: "
                    "a version lies in one place only (the artefacts root or the project's trained_models/)"
                )
            seen[key] = path
            found.append((path, manifest))
    return found


def find_manifests(root: Path) -> list[tuple[Path, Manifest]]:
    """Every ``<root>/<model>/<version>/manifest.json`` (hidden partial folders skipped), sorted."""
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.glob(f"*/*/{MANIFEST_FILE}")):
        if path.parent.name.startswith("."):
            continue
        manifest = read_manifest(path)
        if (manifest.model_name, manifest.model_version) != (path.parent.parent.name, path.parent.name):
            raise ArtifactError(
                f"{path} describes {manifest.model_name!r} version {manifest.model_version!r} but lies in "
                f"{path.parent.parent.name}/{path.parent.name}"
            )
        found.append((path, manifest))
    return found


def read_verified_model(artifact_uri: str, expected_sha256: str) -> str:
    """The text of ``<artifact_uri>/model.txt``, checked against the registered SHA-256."""
    path = artifact_folder(artifact_uri) / MODEL_FILE
    if not path.is_file():
        raise ArtifactError(
            f"the registered artefact {path} is missing (set {ARTIFACTS_ENV} or vars.model_artifacts_dir "
            "to the folder it was trained into)"
        )
    actual = sha256_file(path)
    if actual != expected_sha256:
        raise ArtifactError(
            f"{path} has SHA-256 {actual}, not the registered {expected_sha256}: the artefact changed after "
            "registration. Versions are immutable: train a new version."
        )
    return path.read_text()
