"""What a step of a dbt Python model did, said through dbt's logger: rows in, rows new, seconds.

The Python models run inside the dbt process, so an event fired with dbt_common's
``fire_event`` goes where dbt's own lines go: the console of ``dbt build`` (at info level, beside
the model's ``OK created …`` line) and ``logs/dbt.log`` / ``--log-format json``. One helper,
:func:`log_step`, used by every log step (:func:`mrs.logs.score_new_rows`,
:func:`mrs.minority.scoring_v1.score_detections_v1`, :func:`mrs.lifecycle.schemas.keep_unlogged`,
the validation steps of :mod:`mrs.quality.validate`), so every line reads the same::

    mrs baseline_log: 8,400 rows in, 8,400 new, 1.32 s
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

PREFIX = "mrs"


def step_message(step: str, rows_in: int | None, rows_new: int, seconds: float, detail: str = "") -> str:
    rows = f"{rows_in:,} rows in, " if rows_in is not None else ""
    extra = f", {detail}" if detail else ""
    return f"{PREFIX} {step}: {rows}{rows_new:,} new, {seconds:.2f} s{extra}"


def log_step(step: str, *, rows_in: int | None, rows_new: int, seconds: float, detail: str = "") -> str:
    """Fire one info-level line through dbt's event manager (a no-op sink outside dbt); return it."""
    message = step_message(step, rows_in, rows_new, seconds, detail)
    try:
        from dbt_common.events.functions import fire_event
        from dbt_common.events.types import Note

        fire_event(Note(msg=message))
    except Exception:  # pragma: no cover - logging must never fail a step
        pass
    return message


@dataclass
class StepCounts:
    rows_in: int | None = None
    rows_new: int = 0
    detail: str = ""


@contextmanager
def timed_step(step: str) -> Iterator[StepCounts]:
    """Time a step; the caller fills in the counts; the line is logged when the step succeeds."""
    counts = StepCounts()
    began = time.perf_counter()
    yield counts
    log_step(step, rows_in=counts.rows_in, rows_new=counts.rows_new, seconds=time.perf_counter() - began, detail=counts.detail)
