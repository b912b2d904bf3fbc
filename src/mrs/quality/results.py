"""Great Expectations validation results → rows of ``expectation_results_log`` and of a step's
per-batch table. Pure functions over GE's JSON form of a result, so they are tested without GE."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from mrs.logs import RunContext
from mrs.quality.schemas import RESULTS_LOG_SCHEMA, VALIDATIONS_SCHEMA
from mrs.quality.settings import ValidationSettings

COLUMN_KWARGS: tuple[str, ...] = ("column", "column_A", "column_B", "column_list")
"""Expectation arguments that name the columns an expectation is about."""

SUITE_ERROR_TYPE = "suite_could_not_run"
"""``expectation_type`` of the row recorded when a suite could not run at all (missing suite…)."""


@dataclass(frozen=True)
class Batch:
    """What one suite run validated."""

    suite_name: str
    relation_kind: str  # "log" or "mart"
    batch_run_id: str
    row_count: int
    #: a mart's content fingerprint (count and hash sum of its rows); None for a log batch
    fingerprint: str | None = None


def _hash(*parts: str) -> str:
    return hashlib.md5("|".join(parts).encode()).hexdigest()


def _clean(value: Any) -> Any:
    """JSON-safe: NaN becomes null, numpy scalars and dates become plain values or text."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            return _clean(value.item())
        except (ValueError, TypeError):
            pass
    return value


def to_json(value: Any) -> str | None:
    return None if value is None else json.dumps(_clean(value), default=str, sort_keys=True)


def expectation_columns(kwargs: Mapping[str, Any]) -> list[str]:
    """The columns an expectation is about, in argument order."""
    columns: list[str] = []
    for name in COLUMN_KWARGS:
        value = kwargs.get(name)
        if isinstance(value, str):
            columns.append(value)
        elif isinstance(value, (list, tuple)):
            columns.extend(str(v) for v in value)
    return columns


def expectation_label(expectation_type: str, columns: Sequence[str]) -> str:
    """``expect_column_values_to_be_between(sellout_risk)``: how failures are named."""
    return f"{expectation_type}({', '.join(columns)})"


def exception_message(exception_info: Mapping[str, Any] | None) -> str | None:
    """GE's exception text, from either of its two shapes (flat, or keyed by metric)."""
    if not exception_info:
        return None
    if "raised_exception" in exception_info:
        return exception_info.get("exception_message") if exception_info.get("raised_exception") else None
    messages = [
        str(info.get("exception_message"))
        for info in exception_info.values()
        if isinstance(info, Mapping) and info.get("raised_exception")
    ]
    return "; ".join(messages) or None


_OPTIONAL_RESULT_COLUMNS: tuple[str, ...] = (
    "observed_value",
    "element_count",
    "unexpected_count",
    "unexpected_percent",
    "unexpected_examples",
    "exception_message",
    "data_docs_page",
)


def _batch_columns(batch: Batch, run: RunContext) -> dict[str, Any]:
    """The columns every row about a suite run starts with (schemas.BATCH_FIELDS)."""
    return {
        "run_id": run.run_id,
        "validated_at": run.scored_at,
        "suite_name": batch.suite_name,
        "relation_kind": batch.relation_kind,
        "batch_run_id": batch.batch_run_id,
        "batch_row_count": batch.row_count,
    }


def _result_row(
    batch: Batch, run: RunContext, expectation_id: str, expectation_type: str, columns: Sequence[str], **values: Any
) -> dict[str, Any]:
    """An ``expectation_results_log`` row; ``values`` fills the outcome columns (the rest are null)."""
    outcome = dict.fromkeys(_OPTIONAL_RESULT_COLUMNS)
    outcome.update(values)
    return {
        "result_id": _hash(run.run_id, batch.suite_name, batch.batch_run_id, expectation_id),
        **_batch_columns(batch, run),
        "expectation_id": expectation_id,
        "expectation_type": expectation_type,
        "column_name": ", ".join(columns) or None,
        "expectation": expectation_label(expectation_type, columns),
        **outcome,
    }


def result_rows(
    validation: Mapping[str, Any],
    batch: Batch,
    run: RunContext,
    *,
    data_docs_page: str | None,
    ge_version: str,
    settings: ValidationSettings = ValidationSettings(),
) -> list[dict[str, Any]]:
    """One ``expectation_results_log`` row per expectation of a suite run (GE's JSON result)."""
    rows = []
    for result in validation.get("results", []):
        config = result.get("expectation_config", {})
        kwargs = {k: v for k, v in (config.get("kwargs") or {}).items() if k != "batch_id"}
        details = result.get("result") or {}
        columns = expectation_columns(kwargs)
        expectation_type = str(config.get("type") or config.get("expectation_type"))
        expectation_id = str(config.get("id") or _hash(expectation_type, to_json(kwargs) or ""))
        examples = details.get("partial_unexpected_list")
        rows.append(
            _result_row(
                batch,
                run,
                expectation_id,
                expectation_type,
                columns,
                expectation_kwargs=to_json(kwargs) or "{}",
                success=bool(result.get("success")),
                observed_value=to_json(details.get("observed_value")),
                element_count=details.get("element_count"),
                unexpected_count=details.get("unexpected_count"),
                unexpected_percent=_clean(details.get("unexpected_percent")),
                unexpected_examples=to_json(list(examples)[: settings.unexpected_examples]) if examples else None,
                exception_message=exception_message(result.get("exception_info")),
                data_docs_page=data_docs_page,
                great_expectations_version=ge_version,
            )
        )
    return rows


def suite_error_rows(batch: Batch, run: RunContext, message: str, *, ge_version: str) -> list[dict[str, Any]]:
    """The single failed row recorded when a suite could not run (so the build still fails by name)."""
    return [
        _result_row(
            batch,
            run,
            SUITE_ERROR_TYPE,
            SUITE_ERROR_TYPE,
            (),
            expectation_kwargs="{}",
            success=False,
            exception_message=message,
            great_expectations_version=ge_version,
        )
    ]


def describe_failure(row: Mapping[str, Any]) -> str:
    """``expect_…(column): 1 unexpected of 40, e.g. [1.7]`` (or the observed value / the error)."""
    text = str(row["expectation"])
    if row.get("exception_message"):
        return f"{text}: error {row['exception_message']}"
    if row.get("unexpected_count") is not None:
        text += f": {row['unexpected_count']} unexpected of {row.get('element_count')}"
        if row.get("unexpected_examples"):
            text += f", e.g. {row['unexpected_examples']}"
        return text
    if row.get("observed_value") is not None:
        return f"{text}: observed {row['observed_value']}"
    return text


def summary_row(
    batch: Batch,
    rows: Sequence[Mapping[str, Any]],
    run: RunContext,
    *,
    data_docs_page: str | None,
    settings: ValidationSettings = ValidationSettings(),
) -> dict[str, Any]:
    """The per-batch row of a step: counts, success, and the failed expectations named."""
    failed = [r for r in rows if not r["success"]]
    shown = [describe_failure(r) for r in failed[: settings.failures_in_message]]
    if len(failed) > len(shown):
        shown.append(f"… and {len(failed) - len(shown)} more")
    return {
        "validation_id": _hash(run.run_id, batch.suite_name, batch.batch_run_id),
        **_batch_columns(batch, run),
        "evaluated_expectations": len(rows),
        "failed_expectations": len(failed),
        "success": bool(rows) and not failed,
        "failures": "; ".join(shown) or None,
        "data_docs_page": data_docs_page,
        "batch_fingerprint": batch.fingerprint,
    }


def to_table(rows: Iterable[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    """Rows as a typed Arrow table (an empty one when there are none)."""
    rows = list(rows)
    if not rows:
        return schema.empty_table()
    return pa.Table.from_pylist(rows, schema=schema)


def results_table(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    return to_table(rows, RESULTS_LOG_SCHEMA)


def validations_table(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    return to_table(rows, VALIDATIONS_SCHEMA)
