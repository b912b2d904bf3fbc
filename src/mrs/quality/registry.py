"""Which model versions are registered: what ``model_version`` columns are checked against.

This is the one place the suites learn the registry. Until the model registry log exists, the
registered versions are the ones the package defines (:data:`mrs.versions.BUILTIN_CARDS`); once it
does, the validation steps pass its relation and the versions come from there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mrs.duckdb_relations import query_relation
from mrs.versions import BUILTIN_CARDS, MODEL_NAMES

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

PARAMETER_PREFIX = "registered_versions_"
"""Suites refer to the versions of model ``m`` as ``{"$PARAMETER": "registered_versions_m"}``."""


def parameter_name(model_name: str) -> str:
    """The expectation parameter holding the registered versions of a model."""
    return f"{PARAMETER_PREFIX}{model_name}"


def registered_versions(
    registry: duckdb.DuckDBPyRelation | None = None,
    model_names: Iterable[str] = MODEL_NAMES,
) -> dict[str, list[str]]:
    """The registered versions of every model, by model name.

    ``registry``: a relation with ``model_name`` and ``model_version`` columns (the registry log);
    without one, the versions defined in the package.
    """
    known: dict[str, set[str]] = {name: set() for name in model_names}
    pairs: Iterable[tuple[Any, Any]]
    if registry is None:
        pairs = BUILTIN_CARDS.keys()
    else:
        pairs = query_relation(
            registry,
            "mrs_registry",
            "select distinct model_name, cast(model_version as varchar) from mrs_registry",
        ).fetchall()
    for model_name, version in pairs:
        known.setdefault(model_name, set()).add(str(version))
    return {name: sorted(versions) for name, versions in known.items()}


def version_parameters(
    registry: duckdb.DuckDBPyRelation | None = None,
    model_names: Iterable[str] = MODEL_NAMES,
) -> dict[str, list[str]]:
    """``registered_versions_<model>`` → versions, for every model (the suites' parameters)."""
    return {parameter_name(m): v for m, v in registered_versions(registry, model_names).items()}
