"""Suite files: reading them (without Great Expectations) and scaffolding a first version.

A suite is the JSON file ``expectations/gx/expectations/<suite>.json``, named after the log or mart
it validates, committed and reviewed like code. :func:`log_suite_expectations` writes the
*structural* first version of a log's suite from its :class:`~mrs.logs.LogSpec` (columns in order,
one type per column, not-null where the spec says so, unique ``log_id``, the metadata rules); the
rules about meaning (ranges, bounds, dates) are then added to the JSON by hand. From then on the
JSON is the source of truth: the scaffold never overwrites a suite.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from mrs.logs import LogSpec
from mrs.quality.frames import pandas_type_name
from mrs.quality.registry import parameter_name
from mrs.quality.results import expectation_columns

Expectation = dict[str, Any]
"""``{"type": "expect_…", "kwargs": {...}, "notes": "why"}`` (GE's expectation configuration)."""

MD5_HEX = r"^[0-9a-f]{32}$"

SCHEMA_META_KEY = "mrs_schema"
"""Suite ``meta`` key naming where a log's columns are declared (``module:ATTRIBUTE`` of a
:class:`~mrs.logs.LogSpec` or a ``pyarrow.Schema``); a test checks the suite covers every column."""


def resolve_declaration(reference: str) -> LogSpec | pa.Schema:
    """The LogSpec or pyarrow.Schema named by ``module:ATTRIBUTE``."""
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)


def resolve_schema(reference: str) -> pa.Schema:
    """The Arrow schema named by ``module:ATTRIBUTE`` (a LogSpec's full schema, or a pyarrow.Schema)."""
    value = resolve_declaration(reference)
    return value.schema if isinstance(value, LogSpec) else value


def expectation(expectation_type: str, /, notes: str | None = None, **kwargs: Any) -> Expectation:
    spec: Expectation = {"type": expectation_type, "kwargs": kwargs}
    if notes:
        spec["notes"] = notes
    return spec


def schema_expectations(
    schema: pa.Schema,
    *,
    required: Iterable[str] = (),
    ordered: bool = True,
) -> list[Expectation]:
    """Columns (in order, or as an exact set), one type per column, and not-null for ``required``."""
    names = list(schema.names)
    expectations = [
        expectation("expect_table_columns_to_match_ordered_list", column_list=names)
        if ordered
        else expectation("expect_table_columns_to_match_set", column_set=names, exact_match=True)
    ]
    expectations += [
        expectation("expect_column_values_to_be_of_type", column=f.name, type_=pandas_type_name(f.type)) for f in schema
    ]
    expectations += [expectation("expect_column_values_to_not_be_null", column=name) for name in required]
    return expectations


def registered_version_expectations(model_names: Sequence[str], column: str = "model_version") -> list[Expectation]:
    """``column`` holds a registered version of the row's model: one expectation for a one-model
    log, one per model (restricted to that model's rows) for a log about several models."""
    notes = "Every row comes from a registered version of its model."
    if len(model_names) == 1:
        return [
            expectation(
                "expect_column_values_to_be_in_set",
                notes,
                column=column,
                value_set={"$PARAMETER": parameter_name(model_names[0])},
            )
        ]
    return [
        expectation(
            "expect_column_values_to_be_in_set",
            notes,
            column=column,
            value_set={"$PARAMETER": parameter_name(name)},
            row_condition={"column": {"name": "model_name"}, "operator": "==", "parameter": name, "type": "comparison"},
        )
        for name in model_names
    ]


def log_suite_expectations(
    schema: pa.Schema, model_names: Sequence[str] = (), key_columns: Iterable[str] = ()
) -> list[Expectation]:
    """The structural first version of a log's suite: its declared columns and types, not-null where
    declared, unique ``log_id``; for a log of model outputs (``model_names`` given: the models whose
    versions it holds) the model rules too - known model, registered version, confidence in [0, 1]."""
    required = [f.name for f in schema if not f.nullable]
    expectations = schema_expectations(schema, required=required) + [
        expectation("expect_column_values_to_be_unique", "A build appends only new log_ids.", column="log_id"),
        expectation("expect_column_values_to_match_regex", column="log_id", regex=MD5_HEX),
    ]
    if not model_names:
        return expectations
    names = set(schema.names)
    expectations.append(expectation("expect_column_values_to_be_in_set", column="model_name", value_set=list(model_names)))
    expectations += registered_version_expectations(model_names)
    if key_columns:
        expectations.append(
            expectation(
                "expect_compound_columns_to_be_unique",
                "A batch scores each key once per model version.",
                column_list=[*key_columns, "model_name", "model_version"],
            )
        )
    if "input_fingerprint" in names:
        expectations.append(expectation("expect_column_values_to_match_regex", column="input_fingerprint", regex=MD5_HEX))
    if "model_confidence_metric" in names:
        expectations.append(
            expectation(
                "expect_column_values_to_be_between",
                "A confidence is a probability.",
                column="model_confidence_metric",
                min_value=0,
                max_value=1,
            )
        )
    return expectations


# --- reading suite files (plain JSON, no Great Expectations import) -------------------------------


def load_suite(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def suite_expectations(suite: Mapping[str, Any], type_: str | None = None) -> list[Mapping[str, Any]]:
    return [e for e in suite.get("expectations", []) if type_ is None or e.get("type") == type_]


def declared_columns(suite: Mapping[str, Any]) -> list[str]:
    """The columns the suite's table-columns expectation lists (ordered list or set)."""
    for e in suite_expectations(suite):
        kwargs = e.get("kwargs", {})
        if e.get("type") == "expect_table_columns_to_match_ordered_list":
            return list(kwargs["column_list"])
        if e.get("type") == "expect_table_columns_to_match_set":
            return list(kwargs["column_set"])
    return []


def typed_columns(suite: Mapping[str, Any]) -> dict[str, str]:
    """Column → the type the suite expects."""
    return {e["kwargs"]["column"]: e["kwargs"]["type_"] for e in suite_expectations(suite, "expect_column_values_to_be_of_type")}


def not_null_columns(suite: Mapping[str, Any]) -> set[str]:
    return {e["kwargs"]["column"] for e in suite_expectations(suite, "expect_column_values_to_not_be_null")}


def referenced_columns(suite: Mapping[str, Any]) -> set[str]:
    """Every column some expectation of the suite is about."""
    return {c for e in suite_expectations(suite) for c in expectation_columns(e.get("kwargs", {}))}


def parameters_used(suite: Mapping[str, Any]) -> set[str]:
    """The ``$PARAMETER`` names the suite refers to."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            if "$PARAMETER" in value:
                found.add(str(value["$PARAMETER"]))
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for e in suite_expectations(suite):
        walk(e.get("kwargs", {}))
    return found
