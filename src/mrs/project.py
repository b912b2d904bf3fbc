"""Where the dbt project is, for commands run from anywhere inside it."""

from __future__ import annotations

from pathlib import Path


def project_root(start: Path | None = None) -> Path | None:
    """The nearest directory at or above ``start`` (default: the working directory) holding a
    ``dbt_project.yml``; None outside a project."""
    start = (start or Path.cwd()).resolve()
    for directory in (start, *start.parents):
        if (directory / "dbt_project.yml").is_file():
            return directory
    return None
