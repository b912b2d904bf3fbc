"""The run-time values suites refer to with ``{"$PARAMETER": name}``.

A suite file holds rules, not data: "every ``as_of_date`` lies in the price history" names the
parameters ``price_history_start`` / ``price_history_end``, and each validation step computes them
from the warehouse (small aggregates over the inputs, never a pull of a table) just before it runs
the suites. :data:`PARAMETERS` lists every name with its meaning; a test checks that every
parameter a suite uses is listed here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from mrs.duckdb_relations import query_relation
from mrs.quality.registry import PARAMETER_PREFIX, version_parameters

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

PARAMETERS: dict[str, str] = {
    "price_history_start": "First day of the price tracker's observations (stg_price_tracker__prices.observed_on).",
    "price_history_end": "Last day of the price tracker's observations.",
    "sales_start": "First day of the unified sales data (unified_sales_data.sales_date).",
    "sales_end": "Last day of the unified sales data.",
    "product_count": "Products in the products source (stg_price_tracker__products): the rows of the product_insights mart.",
    "narrative_ids": "Every narrative id of master_narratives (stg_narratives__narratives): each must have a minority report.",
    f"{PARAMETER_PREFIX}<model>": "Registered versions of each model (mrs.quality.registry): "
    "what model_version columns may hold.",
}


def as_parameter_datetime(value: date | datetime | None) -> str | None:
    """A date as the ISO timestamp GE compares ``datetime64`` columns with (midnight), or None."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return value.isoformat()


EMPTY_RANGE_DAY = date(1970, 1, 1)
"""Both ends of the range of an empty date column (a domain without data, e.g. a sales-only build
has no price history): GE needs a bound, an empty batch passes it, and real data outside fails."""


def date_range(relation: duckdb.DuckDBPyRelation, column: str) -> tuple[str | None, str | None]:
    """The first and last value of a date column, as parameter timestamps (see EMPTY_RANGE_DAY)."""
    low, high = query_relation(relation, "mrs_dates", f'select min("{column}"), max("{column}") from mrs_dates').fetchall()[0]
    if low is None and high is None:
        low = high = EMPTY_RANGE_DAY
    return as_parameter_datetime(low), as_parameter_datetime(high)


def expectation_parameters(
    *,
    prices: duckdb.DuckDBPyRelation | None = None,
    sales: duckdb.DuckDBPyRelation | None = None,
    products: duckdb.DuckDBPyRelation | None = None,
    narratives: duckdb.DuckDBPyRelation | None = None,
    registry: duckdb.DuckDBPyRelation | None = None,
) -> dict[str, Any]:
    """Every parameter of :data:`PARAMETERS` that the given relations can provide."""
    parameters: dict[str, Any] = dict(version_parameters(registry))
    if prices is not None:
        parameters["price_history_start"], parameters["price_history_end"] = date_range(prices, "observed_on")
    if sales is not None:
        parameters["sales_start"], parameters["sales_end"] = date_range(sales, "sales_date")
    if products is not None:
        parameters["product_count"] = query_relation(products, "mrs_products", "select count(*) from mrs_products").fetchall()[0][
            0
        ]
    if narratives is not None:
        parameters["narrative_ids"] = sorted(
            r[0]
            for r in query_relation(narratives, "mrs_narratives", "select distinct narrative_id from mrs_narratives").fetchall()
        )
    return parameters
