"""On-demand product insights: the cached mart row, or the active runner computed on the spot.

:func:`get_product_insights` is the equivalent of the dashboard's ``generateProductInsights``. It
opens the warehouse read-only (so it never blocks or breaks a build's writer), reads the
product's row of ``marts.product_insights`` and returns it when it is current. When the row is
missing (no mart yet, or the product was never scored) or stale (newer price data, or older than
the max age), it scores the product's latest feature row of ``ml.product_insight_inputs`` with
the active runner and says so.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, Literal

import duckdb
import pyarrow as pa

from mrs.insights.factory import get_active_runner
from mrs.insights.runner import UnknownProductError
from mrs.insights.schema import FEATURES_TABLE, INSIGHT_SCHEMA, MODEL_NAME

WAREHOUSE_ENV = "MRS_DUCKDB_PATH"
"""Environment variable naming the DuckDB warehouse file (as in profiles.yml)."""
DEFAULT_WAREHOUSE = "mrs.duckdb"

MART = "marts.product_insights"
FEATURES = f"ml.{FEATURES_TABLE}"

CACHED: Final = "cached"
COMPUTED: Final = "computed"


class WarehouseUnavailable(RuntimeError):
    """The warehouse file is missing or cannot be opened read-only."""


@dataclass(frozen=True)
class ProductInsights:
    """One product's insight and where it came from."""

    product_id: str
    product_name: str | None
    category: str | None
    #: ``cached``: the product's row of marts.product_insights; ``computed``: the runner, on the spot
    source: Literal["cached", "computed"]
    #: why: the cached row is current, or why it could not be used
    source_detail: str
    model_name: str
    model_version: str
    #: the log's own columns (baseline, forecasts and bounds, risk, ROI, hype, ...)
    insight: dict[str, Any]
    #: for a cached row: its log_id, run_id and scored_at; empty when computed
    provenance: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: dates and timestamps as ISO strings."""
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def default_warehouse() -> Path:
    return Path(os.environ.get(WAREHOUSE_ENV) or DEFAULT_WAREHOUSE)


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.is_file():
        raise WarehouseUnavailable(f"no warehouse at {path}: run `dbt build` first or set {WAREHOUSE_ENV}")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise WarehouseUnavailable(f"cannot open {path} read-only (is a build writing it?): {exc}") from exc


def _has_table(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, name = qualified.split(".")
    found = _rows(
        con, "select count(*) as n from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    )
    return found.column("n")[0].as_py() > 0


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> pa.Table:
    return con.sql(sql, params=params).to_arrow_table()


@dataclass(frozen=True)
class WarehouseFeatureSource:
    """A product's latest feature row from the warehouse's ``product_insight_inputs``."""

    con: duckdb.DuckDBPyConnection

    def latest_features(self, product_id: str) -> pa.Table:
        if not _has_table(self.con, FEATURES):
            return pa.table({})
        return _rows(
            self.con,
            f"select * from {FEATURES} where product_id = ? order by as_of_date desc limit 1",
            [product_id],
        )


def get_product_insights(
    product_id: str,
    *,
    warehouse: str | Path | None = None,
    version: str | None = None,
) -> ProductInsights:
    """The product's insight: the current cached mart row, else the active runner on the spot.

    ``warehouse`` defaults to ``$MRS_DUCKDB_PATH`` or ``mrs.duckdb``; ``version`` to the active
    version configured in dbt_project.yml. Raises :class:`UnknownProductError` for a product id
    the warehouse does not track and :class:`WarehouseUnavailable` when it cannot be read.
    """
    path = Path(warehouse) if warehouse is not None else default_warehouse()
    with _connect(path) as con:
        cached = _rows(con, f"select * from {MART} where product_id = ?", [product_id]) if _has_table(con, MART) else None
        if cached is not None and cached.num_rows:
            row = cached.to_pylist()[0]
            if row["log_id"] is not None and not row["is_stale"]:
                return ProductInsights(
                    product_id=product_id,
                    product_name=row["product_name"],
                    category=row["category"],
                    source=CACHED,
                    source_detail=f"{MART}: current insight as of {row['as_of_date']}",
                    model_name=row["model_name"],
                    model_version=row["model_version"],
                    insight={name: row[name] for name in INSIGHT_SCHEMA.names},
                    provenance={k: row[k] for k in ("log_id", "input_fingerprint", "run_id", "scored_at")},
                )
            why = f"the cached insight in {MART} is stale ({row['stale_reason']})"
        elif cached is not None:
            why = f"{MART} has no row for it"
        else:
            why = f"the warehouse has no {MART} yet"
        features = WarehouseFeatureSource(con).latest_features(product_id)
    if features.num_rows == 0:
        raise UnknownProductError(product_id, f"the products of {path}")
    runner = get_active_runner(MODEL_NAME, version)
    insight = runner.predict_batch(features).to_pylist()[0]
    feature_row = features.to_pylist()[0]
    return ProductInsights(
        product_id=product_id,
        product_name=feature_row.get("product_name"),
        category=feature_row.get("category"),
        source=COMPUTED,
        source_detail=f"computed on the spot from {FEATURES} as of {insight['as_of_date']}: {why}",
        model_name=runner.model_name,
        model_version=runner.model_version,
        insight=insight,
        provenance={},
    )
