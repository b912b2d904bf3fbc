"""Writing tables as CSV (seeds) or Parquet (large worlds), whole or streamed in chunks.

Files are written to a temporary name and renamed when complete, so a failed run never leaves a
half-written table behind. Output is byte-stable: fixed row order, floats rounded to 2 decimals and
written with exactly two decimals in CSV, no timestamps or random ids in file metadata.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FORMATS = ("csv", "parquet")
_CSV_DECIMAL = pa.decimal128(18, 2)


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema([pa.field(f.name, _CSV_DECIMAL if pa.types.is_floating(f.type) else f.type) for f in schema])


def _csv_ready(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Floats become 2-decimal decimals, so CSV shows `12.50` and never `12.499999999999998`."""
    columns = [pc.cast(pc.round(col, 2), _CSV_DECIMAL) if pa.types.is_floating(col.type) else col for col in table.columns]
    return pa.Table.from_arrays(columns, schema=schema)


class TableSink:
    """One output table, written incrementally (`write` per chunk) and committed on `close`."""

    def __init__(self, out_dir: Path, name: str, schema: pa.Schema, fmt: str) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
        self.path = Path(out_dir) / f"{name}.{fmt}"
        self._tmp = self.path.with_name(self.path.name + ".tmp")
        self.schema = schema
        self.fmt = fmt
        self.rows = 0
        if fmt == "csv":
            self._csv_schema = _csv_schema(schema)
            self._writer = pacsv.CSVWriter(
                str(self._tmp), self._csv_schema, write_options=pacsv.WriteOptions(quoting_style="needed")
            )
        else:
            # Parquet has no second-precision timestamps: they are stored as milliseconds
            self._writer = pq.ParquetWriter(str(self._tmp), schema, compression="zstd", coerce_timestamps="ms")

    def write(self, table: pa.Table) -> None:
        table = table.cast(self.schema) if table.schema != self.schema else table
        if self.fmt == "csv":
            self._writer.write_table(_csv_ready(table, self._csv_schema))
        elif table.num_rows:
            self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> Path:
        self._writer.close()
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        try:
            self._writer.close()
        finally:
            self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> TableSink:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_table(table: pa.Table, out_dir: Path | str, name: str, fmt: str, schema: pa.Schema | None = None) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with TableSink(out_dir, name, schema or table.schema, fmt) as sink:
        sink.write(table)
    return sink.path


def write_world(tables: Mapping[str, pa.Table], out_dir: Path | str, fmt: str = "csv") -> dict[str, Path]:
    """Write every table as `<out_dir>/<name>.<fmt>`; returns the paths by table name."""
    return {name: write_table(table, out_dir, name, fmt) for name, table in tables.items()}
