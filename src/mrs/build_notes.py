"""Messages from the package's dbt Python models to the build output.

A dbt Python model has no logging API of its own; on dbt-duckdb it runs inside the dbt process,
so a line printed here appears among dbt's own lines (and in the test logs that capture them).
Used where a build does something a user would otherwise not see: a domain without input data
scoring nothing, a setting that leaves a model without work.
"""

from __future__ import annotations

import sys


def build_note(model: str, message: str) -> str:
    """Print ``MRS <model>: <message>`` to the build output; returns the line."""
    line = f"MRS {model}: {message}"
    print(line, file=sys.stdout, flush=True)
    return line
