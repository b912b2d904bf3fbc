"""The product-insights runner interface.

A runner turns feature rows (``product_insight_inputs``: one row per product × as-of date)
into insight rows in the log's schema (:data:`mrs.insights.schema.INSIGHT_SCHEMA`), one per input
row, in order. ``predict(product_id)`` is a convenience on top: it asks a :class:`FeatureSource`
for the product's latest feature row and scores it. The heuristic runner is version 0; a learned
runner implements the same interface and drops in through :mod:`mrs.insights.factory`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Protocol

import pyarrow as pa

from mrs.insights.schema import FEATURES_TABLE


class UnknownProductError(LookupError):
    """The product id is not a tracked product."""

    def __init__(self, product_id: str, where: str) -> None:
        super().__init__(f"unknown product {product_id!r}: it is not in {where}")
        self.product_id = product_id


class InsightsInputError(ValueError):
    """Feature rows the runner cannot score; the message names the table, column and rows."""


class FeatureSource(Protocol):
    """Where a runner finds the feature row of a single product."""

    def latest_features(self, product_id: str) -> pa.Table:
        """The product's feature row at its latest as-of date (zero rows: unknown product)."""
        ...  # pragma: no cover


class ModelRunner(ABC):
    """A product-insights model: ``predict_batch(features) -> insights``."""

    #: model name and version this runner implements (the log's ``model_name``/``model_version``)
    model_name: str = "product_insights"
    model_version: str

    def __init__(self, features: FeatureSource | None = None) -> None:
        self.features = features

    def fingerprint_columns(self, columns: list[str]) -> list[str] | None:
        """The input columns a row's ``input_fingerprint`` covers (None: every column)."""
        return None

    @abstractmethod
    def predict_batch(self, features: pa.Table) -> pa.Table:
        """Insight rows in :data:`~mrs.insights.schema.INSIGHT_SCHEMA`, one per feature row, in order."""

    def predict(self, product_id: str) -> dict[str, Any]:
        """The insight of one product at its latest as-of date, as a dict of the log's columns.

        Raises :class:`UnknownProductError` when the feature source has no row for the product.
        """
        if self.features is None:
            raise RuntimeError(f"{type(self).__name__} has no feature source: pass features= to score by product id")
        row = self.features.latest_features(product_id)
        if row.num_rows == 0:
            raise UnknownProductError(product_id, FEATURES_TABLE)
        return self.predict_batch(row.slice(0, 1)).to_pylist()[0]
