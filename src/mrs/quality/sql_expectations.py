"""The suites' expectations compiled to SQL, for batches too large to pull into pandas.

Great Expectations validates a pandas frame: for a batch of millions of rows that is the whole
batch in Arrow and again in pandas inside the build's Python process. Above
:attr:`~mrs.quality.settings.ValidationSettings.sql_min_rows` rows a batch is instead validated
where it lives: each expectation of the suite file (the same JSON, the single source of the rules)
is compiled to SQL over the batch's DuckDB relation, and the outcome is returned in the shape of
GE's JSON result (``results[*].expectation_config / success / result / exception_info``), so
:func:`mrs.quality.results.result_rows` records it exactly like a GE run.

The semantics follow GE's pandas engine: column-map expectations count a row as unexpected only
when it is not null (nulls are what ``expect_column_values_to_not_be_null`` is for), their
``unexpected_percent`` is over the non-null rows of the domain, ``row_condition`` restricts the
domain, uniqueness counts every row of a duplicated value, and ``expect_column_values_to_be_of_type``
compares the type name the column gets when a batch is converted for GE
(:func:`mrs.quality.frames.pandas_type_name`). ``tests/test_expectations_sql.py`` checks every
expectation type the suites use against GE itself, on the same batches, passing and failing.

Supported: the types in :data:`COMPILERS`; a suite using another type gets a failed row naming it
(``exception_info``), never a silent pass.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from mrs.duckdb_relations import query_relation
from mrs.quality.frames import pandas_type_name, sql_literal

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

BATCH = "mrs_batch"
"""The name a batch's relation has inside the compiled SQL."""

PARTIAL_UNEXPECTED_COUNT = 20
"""Unexpected values kept per expectation, as GE's ``partial_unexpected_count`` (gx_context.RESULT_FORMAT)."""


class UnsupportedExpectation(ValueError):
    """An expectation type (or argument) with no SQL form here."""


def quote_identifier(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def resolve_parameters(value: Any, parameters: Mapping[str, Any]) -> Any:
    """``{"$PARAMETER": name}`` replaced by its value, recursively (a missing one raises KeyError)."""
    if isinstance(value, Mapping):
        if "$PARAMETER" in value:
            name = str(value["$PARAMETER"])
            if name not in parameters:
                raise KeyError(f"the suite refers to $PARAMETER {name!r}, which this validation step does not provide")
            return parameters[name]
        return {k: resolve_parameters(v, parameters) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_parameters(v, parameters) for v in value]
    return value


def value_literal(value: Any) -> str:
    """A Python value as a SQL literal."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return f"cast({sql_literal(repr(value))} as double)"
        return repr(value)
    if isinstance(value, datetime):
        return f"timestamp {sql_literal(value.isoformat())}"
    if isinstance(value, date):
        return f"timestamp {sql_literal(datetime(value.year, value.month, value.day).isoformat())}"
    return sql_literal(str(value))


@dataclass(frozen=True)
class BatchShape:
    """What the compiler knows of a batch: its columns' Arrow types, in order."""

    schema: pa.Schema

    def column(self, name: str) -> str:
        if name not in self.schema.names:
            raise KeyError(f"column {name!r} is not in the batch (columns: {self.schema.names})")
        return quote_identifier(name)

    def is_temporal(self, name: str) -> bool:
        t = self.schema.field(name).type
        return pa.types.is_date(t) or pa.types.is_timestamp(t)

    def comparable(self, name: str) -> str:
        """The column as it is compared with a bound: dates as timestamps (GE compares ``datetime64``)."""
        column = self.column(name)
        if self.is_temporal(name):
            t = self.schema.field(name).type
            return f"cast({column} as timestamptz)" if pa.types.is_timestamp(t) and t.tz else f"cast({column} as timestamp)"
        return column

    def shown(self, name: str) -> str:
        """The column as an unexpected example shows it: dates and naive timestamps as GE's ISO
        timestamps (``2025-09-01T00:00:00``), everything else as it is."""
        t = self.schema.field(name).type
        if pa.types.is_date(t) or (pa.types.is_timestamp(t) and not t.tz):
            return f"strftime(cast({self.column(name)} as timestamp), '%Y-%m-%dT%H:%M:%S')"
        return self.column(name)

    def bound(self, name: str, value: Any) -> str:
        if self.is_temporal(name) and isinstance(value, str):
            t = self.schema.field(name).type
            kind = "timestamptz" if pa.types.is_timestamp(t) and t.tz else "timestamp"
            return f"cast({sql_literal(value)} as {kind})"
        return value_literal(value)


def row_condition_sql(condition: Mapping[str, Any] | None, shape: BatchShape) -> str:
    """GE 1.x's structured ``row_condition`` (``{"column": {"name": c}, "operator": "==", "parameter": v}``) as SQL."""
    if not condition:
        return "true"
    operators = {"==": "=", "!=": "<>", ">": ">", ">=": ">=", "<": "<", "<=": "<="}
    if condition.get("type") != "comparison" or condition.get("operator") not in operators:
        raise UnsupportedExpectation(f"row_condition {json.dumps(condition)} has no SQL form here")
    column = shape.column(condition["column"]["name"])
    return f"{column} {operators[condition['operator']]} {value_literal(condition.get('parameter'))}"


@dataclass(frozen=True)
class MapCheck:
    """A column-map expectation: rows of the domain, which of them are ignored, which unexpected,
    and what to show of an unexpected row."""

    domain: str
    ignored: str
    unexpected: str
    example: str
    percent_of_nonmissing: bool = True


def _map_values(kwargs: Mapping[str, Any], shape: BatchShape, unexpected: Callable[[str], str]) -> MapCheck:
    column = shape.column(kwargs["column"])
    return MapCheck(
        domain=row_condition_sql(kwargs.get("row_condition"), shape),
        ignored=f"{column} is null",
        unexpected=unexpected(column),
        example=shape.shown(kwargs["column"]),
    )


def _between(kwargs: Mapping[str, Any], shape: BatchShape) -> MapCheck:
    name = kwargs["column"]
    value = shape.comparable(name)
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    parts = []
    if low is not None:
        parts.append(f"{value} {'>' if kwargs.get('strict_min') else '>='} {shape.bound(name, low)}")
    if high is not None:
        parts.append(f"{value} {'<' if kwargs.get('strict_max') else '<='} {shape.bound(name, high)}")
    if not parts:
        raise UnsupportedExpectation("expect_column_values_to_be_between needs min_value or max_value")
    inside = " and ".join(parts)
    return _map_values(kwargs, shape, lambda column: f"not coalesce({inside}, false)")


def _in_set(kwargs: Mapping[str, Any], shape: BatchShape) -> MapCheck:
    values = list(kwargs.get("value_set") or [])
    listed = ", ".join(value_literal(v) for v in values) if values else "null"
    return _map_values(kwargs, shape, lambda column: f"not coalesce({column} in ({listed}), false)")


def _regex(kwargs: Mapping[str, Any], shape: BatchShape) -> MapCheck:
    pattern = sql_literal(kwargs["regex"])
    return _map_values(kwargs, shape, lambda column: f"not regexp_matches(cast({column} as varchar), {pattern})")


def _not_null(kwargs: Mapping[str, Any], shape: BatchShape) -> MapCheck:
    column = shape.column(kwargs["column"])
    return MapCheck(
        row_condition_sql(kwargs.get("row_condition"), shape), "false", f"{column} is null", shape.shown(kwargs["column"]), False
    )


def _null(kwargs: Mapping[str, Any], shape: BatchShape) -> MapCheck:
    column = shape.column(kwargs["column"])
    return MapCheck(
        row_condition_sql(kwargs.get("row_condition"), shape),
        "false",
        f"{column} is not null",
        shape.shown(kwargs["column"]),
        False,
    )


def _pair_greater(kwargs: Mapping[str, Any], shape: BatchShape) -> MapCheck:
    a, b = shape.column(kwargs["column_A"]), shape.column(kwargs["column_B"])
    ignore = kwargs.get("ignore_row_if", "both_values_are_missing")
    ignored = {
        "both_values_are_missing": f"({a} is null and {b} is null)",
        "either_value_is_missing": f"({a} is null or {b} is null)",
        "neither": "false",
    }.get(ignore)
    if ignored is None:
        raise UnsupportedExpectation(f"ignore_row_if {ignore!r} has no SQL form here")
    op = ">=" if kwargs.get("or_equal") else ">"
    return MapCheck(
        row_condition_sql(kwargs.get("row_condition"), shape),
        ignored,
        f"not coalesce({a} {op} {b}, false)",
        f"[{shape.shown(kwargs['column_A'])}, {shape.shown(kwargs['column_B'])}]",
    )


MAP_COMPILERS: dict[str, Callable[[Mapping[str, Any], BatchShape], MapCheck]] = {
    "expect_column_values_to_be_between": _between,
    "expect_column_values_to_be_in_set": _in_set,
    "expect_column_values_to_match_regex": _regex,
    "expect_column_values_to_not_be_null": _not_null,
    "expect_column_values_to_be_null": _null,
    "expect_column_pair_values_a_to_be_greater_than_b": _pair_greater,
}
"""Column-map expectations: counted together, in one pass over the batch."""

UNIQUE_TYPES = ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique")
TABLE_TYPES = (
    "expect_column_values_to_be_of_type",
    "expect_table_columns_to_match_ordered_list",
    "expect_table_columns_to_match_set",
    "expect_table_row_count_to_equal",
    "expect_column_distinct_values_to_contain_set",
)
COMPILERS: tuple[str, ...] = tuple(MAP_COMPILERS) + UNIQUE_TYPES + TABLE_TYPES
"""Every expectation type with an SQL form."""


def _map_result(
    element_count: int, missing: int, unexpected: int, examples: list[Any], percent_of_nonmissing: bool
) -> dict[str, Any]:
    nonmissing = element_count - missing
    base = nonmissing if percent_of_nonmissing else element_count
    return {
        "element_count": element_count,
        "missing_count": missing,
        "missing_percent": (100.0 * missing / element_count) if element_count else None,
        "unexpected_count": unexpected,
        "unexpected_percent": (100.0 * unexpected / base) if base else 0.0,
        "partial_unexpected_list": examples,
    }


class SqlSuiteRunner:
    """Runs one suite's expectations over one batch relation, returning GE's JSON result shape."""

    def __init__(self, relation: duckdb.DuckDBPyRelation, parameters: Mapping[str, Any]) -> None:
        self.relation = relation
        self.parameters = parameters
        self.shape = BatchShape(relation.limit(0).to_arrow_table().schema)

    def sql(self, query: str) -> list[tuple]:
        return query_relation(self.relation, BATCH, query).fetchall()

    def examples(self, where: str, example: str) -> list[Any]:
        rows = self.sql(f"select {example} from {BATCH} where {where} order by 1 limit {PARTIAL_UNEXPECTED_COUNT}")
        return [r[0] for r in rows]

    def run(self, expectations: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        outcomes: dict[int, dict[str, Any]] = {}
        checks: dict[int, MapCheck] = {}
        for i, config in enumerate(expectations):
            try:
                kwargs = resolve_parameters(dict(config.get("kwargs") or {}), self.parameters)
                kind = config.get("type")
                if kind in MAP_COMPILERS:
                    checks[i] = MAP_COMPILERS[kind](kwargs, self.shape)
                elif kind in UNIQUE_TYPES:
                    outcomes[i] = self._unique(kind, kwargs)
                elif kind in TABLE_TYPES:
                    outcomes[i] = self._table(kind, kwargs)
                else:
                    raise UnsupportedExpectation(f"{kind} has no SQL form (mrs.quality.sql_expectations.COMPILERS)")
            except Exception as exc:  # recorded against the expectation, as GE records its exceptions
                outcomes[i] = {"success": False, "result": {}, "exception": f"{type(exc).__name__}: {exc}"}
        outcomes |= self._map_outcomes(checks)
        results = []
        for i, config in enumerate(expectations):
            outcome = outcomes[i]
            message = outcome.get("exception")
            results.append(
                {
                    "expectation_config": {
                        "type": config.get("type"),
                        "kwargs": dict(config.get("kwargs") or {}),
                        "id": config.get("id"),
                    },
                    "success": bool(outcome["success"]),
                    "result": outcome["result"],
                    "exception_info": {"raised_exception": bool(message), "exception_message": message},
                }
            )
        return {"results": results, "success": all(r["success"] for r in results)}

    def _map_outcomes(self, checks: Mapping[int, MapCheck]) -> dict[int, dict[str, Any]]:
        """Every column-map expectation counted in one aggregate pass; examples only for failures."""
        if not checks:
            return {}
        columns = []
        for check in checks.values():
            columns += [
                f"count(*) filter (where {check.domain})",
                f"count(*) filter (where ({check.domain}) and ({check.ignored}))",
                f"count(*) filter (where ({check.domain}) and not ({check.ignored}) and ({check.unexpected}))",
            ]
        (counts,) = self.sql(f"select {', '.join(columns)} from {BATCH}")
        outcomes = {}
        for n, (i, check) in enumerate(checks.items()):
            element_count, missing, unexpected = (int(c) for c in counts[3 * n : 3 * n + 3])
            examples = (
                self.examples(f"({check.domain}) and not ({check.ignored}) and ({check.unexpected})", check.example)
                if unexpected
                else []
            )
            outcomes[i] = {
                "success": unexpected == 0,
                "result": _map_result(element_count, missing, unexpected, examples, check.percent_of_nonmissing),
            }
        return outcomes

    def _unique(self, kind: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        names = [kwargs["column"]] if kind == "expect_column_values_to_be_unique" else list(kwargs["column_list"])
        columns = [self.shape.column(n) for n in names]
        domain = row_condition_sql(kwargs.get("row_condition"), self.shape)
        ignore = kwargs.get("ignore_row_if", "all_values_are_missing")
        if kind == "expect_column_values_to_be_unique":
            ignored = f"{columns[0]} is null"
        elif ignore == "all_values_are_missing":
            ignored = " and ".join(f"{c} is null" for c in columns)
        elif ignore == "any_value_is_missing":
            ignored = " or ".join(f"{c} is null" for c in columns)
        else:
            ignored = "false"
        keys = ", ".join(columns)
        # a single column shows its value, a compound key a {column: value} mapping, as GE does
        example = (
            self.shape.shown(names[0])
            if len(names) == 1
            else "{" + ", ".join(f"{sql_literal(n)}: {self.shape.shown(n)}" for n in names) + "}"
        )
        ((element_count, missing),) = self.sql(f"select count(*), count(*) filter (where {ignored}) from {BATCH} where {domain}")
        rows = f"select * from {BATCH} where ({domain}) and not ({ignored})"
        duplicated_rows = f"""select * from ({rows}) where ({keys}) in (
                                  select ({keys}) from ({rows}) group by {keys} having count(*) > 1)"""
        ((unexpected,),) = self.sql(f"select count(*) from ({duplicated_rows})")
        examples = (
            [r[0] for r in self.sql(f"select {example} from ({duplicated_rows}) order by 1 limit {PARTIAL_UNEXPECTED_COUNT}")]
            if unexpected
            else []
        )
        return {
            "success": int(unexpected) == 0,
            "result": _map_result(int(element_count), int(missing), int(unexpected), examples, True),
        }

    def _table(self, kind: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        names = list(self.shape.schema.names)
        if kind == "expect_column_values_to_be_of_type":
            field = self.shape.schema.field(kwargs["column"]) if kwargs["column"] in names else None
            if field is None:
                raise KeyError(f"column {kwargs['column']!r} is not in the batch (columns: {names})")
            observed = pandas_type_name(field.type)
            return {"success": observed == kwargs["type_"], "result": {"observed_value": observed}}
        if kind == "expect_table_columns_to_match_ordered_list":
            return {"success": names == list(kwargs["column_list"]), "result": {"observed_value": names}}
        if kind == "expect_table_columns_to_match_set":
            expected = set(kwargs["column_set"])
            exact = kwargs.get("exact_match", True)
            success = set(names) == expected if exact else expected <= set(names)
            return {"success": success, "result": {"observed_value": names}}
        if kind == "expect_table_row_count_to_equal":
            ((count,),) = self.sql(f"select count(*) from {BATCH}")
            return {"success": int(count) == int(kwargs["value"]), "result": {"observed_value": int(count)}}
        # expect_column_distinct_values_to_contain_set
        column = self.shape.column(kwargs["column"])
        distinct = sorted(r[0] for r in self.sql(f"select distinct {column} from {BATCH} where {column} is not null"))
        return {"success": set(kwargs["value_set"]) <= set(distinct), "result": {"observed_value": distinct}}
