"""The Great Expectations file context: the one module that imports GE.

Importing GE costs about two seconds, so it happens once per process, lazily, the first time a
validation step has something to validate (a build that appended nothing never imports it).

At build time the context is only *read* (suites, validation definitions, checkpoints, the data
source) and written under ``gx/uncommitted/`` (validation results and Data Docs). Everything a
suite needs to run is registered once, by :func:`register_suite` (called by the scaffold), and
committed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mrs.quality.settings import BATCH_DEFINITION_NAME, DATA_DOCS_SITE, DATASOURCE_NAME

_IMPORT_LOCK = threading.Lock()
_GX: Any = None

RUN_LOCK = threading.Lock()
"""Held while a step uses its context: dbt runs models in threads, and two steps must not render
Data Docs (one index page) or run GE, whose caches are not thread-safe, at the same time."""

RESULT_FORMAT: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 20}
"""What a checkpoint keeps per expectation: counts and up to 20 unexpected values (no row lists)."""


class SuiteNotRegistered(LookupError):
    """A suite has no checkpoint in the file context."""


def great_expectations() -> Any:
    """The ``great_expectations`` module, imported on first use (analytics off)."""
    global _GX
    with _IMPORT_LOCK:
        if _GX is None:
            os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
            import great_expectations as gx

            _GX = gx
    return _GX


@dataclass
class SuiteRun:
    """One checkpoint run: GE's JSON result and the key it is stored under."""

    validation: dict[str, Any]
    identifier: Any


class GxProject:
    """A GE file context rooted at ``<project_dir>/gx``."""

    def __init__(self, project_dir: str | Path) -> None:
        self.project_dir = Path(project_dir).resolve()
        gx = great_expectations()
        self.version: str = gx.__version__
        self.context = gx.get_context(mode="file", project_root_dir=str(self.project_dir))

    # --- build time ------------------------------------------------------------------------------

    def run_suite(self, suite_name: str, frame: pd.DataFrame, parameters: Mapping[str, Any], run_name: str) -> SuiteRun:
        """Run the suite's checkpoint on a frame. Expectation failures are results, not exceptions."""
        from great_expectations.core.run_identifier import RunIdentifier

        try:
            checkpoint = self.context.checkpoints.get(suite_name)
        except Exception as exc:  # GE raises its own DataContextError subclasses
            raise SuiteNotRegistered(
                f"no checkpoint named {suite_name!r} in {self.project_dir}/gx: "
                f"run `python -m mrs.quality.scaffold {suite_name}` and commit the files it writes ({exc})"
            ) from exc
        result = checkpoint.run(
            batch_parameters={"dataframe": frame},
            expectation_parameters=dict(parameters),
            run_id=RunIdentifier(run_name=run_name),
        )
        ((identifier, validation),) = result.run_results.items()
        return SuiteRun(validation=validation.to_json_dict(), identifier=identifier)

    def build_data_docs(self, runs: Iterable[SuiteRun]) -> None:
        """Render the pages of these runs (and their suites) and the index; nothing else."""
        from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

        identifiers: list[Any] = []
        for run in runs:
            identifiers.append(run.identifier)
            identifiers.append(ExpectationSuiteIdentifier(name=run.identifier.expectation_suite_identifier.name))
        if identifiers:
            self.context.build_data_docs(site_names=[DATA_DOCS_SITE], resource_identifiers=identifiers)

    def data_docs_page(self, run: SuiteRun) -> str | None:
        """The file path of a run's Data Docs page."""
        urls = self.context.get_docs_sites_urls(resource_identifier=run.identifier, site_name=DATA_DOCS_SITE)
        url = urls[0].get("site_url") if urls else None
        return url.removeprefix("file://") if url else None

    # --- scaffold time ---------------------------------------------------------------------------

    def has_suite(self, suite_name: str) -> bool:
        return any(s.name == suite_name for s in self.context.suites.all())

    def write_suite(
        self, suite_name: str, expectations: Iterable[Mapping[str, Any]], notes: str, meta: Mapping[str, Any] | None = None
    ) -> None:
        """Create a suite file (never overwrites an existing one)."""
        gx = great_expectations()
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

        if self.has_suite(suite_name):
            raise FileExistsError(f"suite {suite_name!r} exists; edit its JSON instead")
        suite = gx.ExpectationSuite(name=suite_name, notes=notes, meta=dict(meta or {}))
        for spec in expectations:
            suite.add_expectation_configuration(
                ExpectationConfiguration(type=spec["type"], kwargs=dict(spec["kwargs"]), notes=spec.get("notes"))
            )
        self.context.suites.add(suite)

    def register_suite(self, suite_name: str) -> None:
        """The dataframe asset, batch definition, validation definition and checkpoint of a suite."""
        gx = great_expectations()
        try:
            source = self.context.data_sources.get(DATASOURCE_NAME)
        except (KeyError, ValueError):
            source = self.context.data_sources.add_pandas(name=DATASOURCE_NAME)
        asset = next((a for a in source.assets if a.name == suite_name), None) or source.add_dataframe_asset(name=suite_name)
        batch = next((b for b in asset.batch_definitions if b.name == BATCH_DEFINITION_NAME), None)
        batch = batch or asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION_NAME)
        suite = self.context.suites.get(suite_name)
        definition = gx.ValidationDefinition(name=suite_name, data=batch, suite=suite)
        definition = self.context.validation_definitions.add_or_update(definition)
        checkpoint = gx.Checkpoint(
            name=suite_name,
            validation_definitions=[definition],
            actions=[],
            result_format=RESULT_FORMAT,
        )
        self.context.checkpoints.add_or_update(checkpoint)
