"""Vectorised work over list columns: one segment of a flat array per row, no loop per row."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class Segments:
    """A list column as a flat float array plus, for every element, the row it belongs to."""

    values: np.ndarray
    row: np.ndarray
    lengths: np.ndarray
    starts: np.ndarray

    @classmethod
    def of(cls, column: pa.ChunkedArray | pa.Array) -> Segments:
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        if column.null_count:
            raise ValueError("a list column with null lists cannot be split into segments")
        lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False).astype(np.int64)
        values = pc.list_flatten(column).to_numpy(zero_copy_only=False).astype(np.float64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        return cls(values, np.repeat(np.arange(lengths.size), lengths), lengths, starts)

    @property
    def rows(self) -> int:
        return int(self.lengths.size)

    def sum(self, values: np.ndarray | None = None) -> np.ndarray:
        """Per-row sum of ``values`` (default: the segments' own values); 0 for an empty row."""
        v = self.values if values is None else values
        return np.bincount(self.row, weights=v, minlength=self.rows).astype(np.float64)

    def max(self, values: np.ndarray) -> np.ndarray:
        """Per-row maximum of ``values`` (-inf for an empty row)."""
        out = np.full(self.rows, -np.inf)
        np.maximum.at(out, self.row, values)
        return out

    def argmax(self, values: np.ndarray) -> np.ndarray:
        """Per row, the position inside the row of its first largest value (0 for an empty row)."""
        order = np.lexsort((-values, self.row))
        first = np.searchsorted(self.row[order], np.arange(self.rows))
        flat = order[np.minimum(first, max(order.size - 1, 0))] if order.size else np.zeros(self.rows, np.int64)
        return np.where(self.lengths > 0, flat - self.starts, 0)

    def sample_sd(self) -> np.ndarray:
        """Per-row sample standard deviation of the values (0 for a row of fewer than two)."""
        n = self.lengths.astype(np.float64)
        mean = np.divide(self.sum(), n, out=np.zeros(self.rows), where=n > 0)
        squares = self.sum((self.values - mean[self.row]) ** 2)
        return np.sqrt(np.divide(squares, n - 1, out=np.zeros(self.rows), where=n > 1))
