"""From a warehouse batch to the pandas frame a suite validates, and the type names suites expect.

Great Expectations checks a pandas column's type by its dtype's scalar type, so the conversion
must be fixed for the type expectations to mean something:

* integers and booleans become pandas' nullable dtypes (``Int32``, ``boolean``), so a null never
  turns an integer column into floats;
* dates and naive timestamps become ``datetime64`` (date range expectations then compare against
  ISO timestamps, see :mod:`mrs.quality.parameters`); time-zone-aware timestamps become
  ``datetime64[…, tz]`` (scalar type ``Timestamp``);
* strings become pandas' ``str`` dtype; lists, structs and decimals stay Python objects.

:func:`pandas_type_name` gives, for an Arrow type, the ``type_`` an
``expect_column_values_to_be_of_type`` expectation names for the column converted this way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from mrs.duckdb_relations import query_relation

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

_NULLABLE_DTYPES: dict[pa.DataType, object] = {
    pa.int8(): pd.Int8Dtype(),
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.uint8(): pd.UInt8Dtype(),
    pa.uint16(): pd.UInt16Dtype(),
    pa.uint32(): pd.UInt32Dtype(),
    pa.uint64(): pd.UInt64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


def to_frame(table: pa.Table) -> pd.DataFrame:
    """The pandas frame of an Arrow batch, with the dtypes described in the module docstring."""
    return table.to_pandas(types_mapper=_NULLABLE_DTYPES.get, date_as_object=False)


def pandas_type_name(arrow_type: pa.DataType) -> str:
    """The ``type_`` of ``expect_column_values_to_be_of_type`` for a column of this Arrow type."""
    if pa.types.is_integer(arrow_type):
        return str(arrow_type)  # int8 … int64, uint8 … uint64
    if pa.types.is_floating(arrow_type):
        return f"float{arrow_type.bit_width}"
    if pa.types.is_boolean(arrow_type):
        return "bool"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) or pa.types.is_string_view(arrow_type):
        return "str"
    if pa.types.is_date(arrow_type):
        return "datetime64"
    if pa.types.is_timestamp(arrow_type):
        return "Timestamp" if arrow_type.tz else "datetime64"
    return "object"


def sql_literal(value: str) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def batch_relation(relation: duckdb.DuckDBPyRelation, batch_column: str, batch_value: str) -> duckdb.DuckDBPyRelation:
    """The rows of one batch of a log (``batch_column = batch_value``), as a lazy relation filtered
    in the warehouse (nothing is read until it is validated)."""
    return query_relation(relation, "mrs_log", f"select * from mrs_log where {batch_column} = {sql_literal(batch_value)}")
