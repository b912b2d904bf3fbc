"""Names and constants of the validation machinery, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

GX_PROJECT_DIRNAME = "expectations"
"""The Great Expectations project folder inside the dbt project (GE keeps its files in ``gx/``)."""

DATASOURCE_NAME = "mrs_warehouse"
"""The pandas data source of the file context; it has one dataframe asset per suite."""

BATCH_DEFINITION_NAME = "batch"
"""Each asset's batch definition: the whole dataframe handed over at run time (one log batch, or a mart)."""

DATA_DOCS_SITE = "local_site"
"""The Data Docs site the validations render to (``expectations/gx/uncommitted/data_docs/local_site``)."""

RESULTS_LOG = "expectation_results_log"
"""The append-only table both validation steps append their per-expectation results to."""

SQL_ENGINE = "compiled to SQL"
"""Appended to ``great_expectations_version`` in the results of a suite run as SQL (the suite's GE version)."""

LOG_KIND = "log"
MART_KIND = "mart"


SQL_MIN_ROWS_ENV = "MRS_SQL_VALIDATION_MIN_ROWS"
"""The environment variable that overrides :attr:`ValidationSettings.sql_min_rows`."""


@dataclass(frozen=True)
class ValidationSettings:
    """How results are recorded.

    ``unexpected_examples``: unexpected values kept per failed expectation in
    ``expectation_results_log.unexpected_examples`` (GE's Data Docs page shows up to 20).
    ``failures_in_message``: failed expectations listed in a batch's ``failures`` text (and thus in
    the build's failure message) before the rest is summarised as "… and N more".
    ``sql_min_rows``: a batch of at least this many rows is validated in the warehouse, its suite
    compiled to SQL (:mod:`mrs.quality.sql_expectations`), instead of pulled into pandas for Great
    Expectations (which also renders its Data Docs page). :data:`SQL_MIN_ROWS_ENV` overrides it.
    """

    unexpected_examples: int = 5
    failures_in_message: int = 10
    sql_min_rows: int = field(default_factory=lambda: int(os.environ.get(SQL_MIN_ROWS_ENV, "100000")))


def gx_project_dir(dbt_project_dir: str | Path | None) -> Path:
    """The GE project folder of a dbt project (the current directory when dbt gave none)."""
    base = Path(dbt_project_dir) if dbt_project_dir else Path.cwd()
    return (base / GX_PROJECT_DIRNAME).resolve()


def suite_dir(project_dir: Path) -> Path:
    """Where the suite files live: ``<GE project>/gx/expectations``."""
    return project_dir / "gx" / "expectations"


def data_docs_index(project_dir: Path) -> Path:
    """The Data Docs entry page of a GE project folder."""
    return project_dir / "gx" / "uncommitted" / "data_docs" / DATA_DOCS_SITE / "index.html"
