"""Where the dbt project is, for commands run from anywhere inside it."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR_ENV = "MRS_PROJECT_DIR"
"""Environment variable naming the dbt project whose configuration is active."""


def project_root(start: Path | None = None) -> Path | None:
    """The nearest directory at or above ``start`` (default: the working directory) holding a
    ``dbt_project.yml``; None outside a project."""
    start = (start or Path.cwd()).resolve()
    for directory in (start, *start.parents):
        if (directory / "dbt_project.yml").is_file():
            return directory
    return None


def find_project_dir(start: Path | None = None) -> Path | None:
    """The dbt project whose configuration is active: ``$MRS_PROJECT_DIR``, else
    :func:`project_root` of ``start``, else the project this package is installed from."""
    if os.environ.get(PROJECT_DIR_ENV):
        return Path(os.environ[PROJECT_DIR_ENV])
    if (found := project_root(start)) is not None:
        return found
    package_root = Path(__file__).resolve().parents[2]  # src/mrs/project.py → project
    return package_root if (package_root / "dbt_project.yml").is_file() else None
