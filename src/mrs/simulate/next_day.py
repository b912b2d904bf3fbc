"""The next sales day of a simulated world, in its retailer feeds' own shapes: what a retailer's
feed delivers the day after the world ends. The benchmark appends it to a large world's Parquet
feeds; the incremental-build tests append it to the demo world's seeds."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from mrs.simulate.config import SimulationConfig
from mrs.simulate.narratives import build_scenario
from mrs.simulate.sales import iter_sales_chunks
from mrs.simulate.world import build_world

FEED_DATE_COLUMNS = {"sales_northmart": "date", "sales_coastco": "TXN_DATE"}
"""The retailer feeds a new sales day is appended to, and each one's date column."""


def next_day_rows(config: SimulationConfig) -> tuple[date, dict[str, pa.Table]]:
    """The feeds' rows of the day after ``config.end_date``: the same world (seed, stores, SKUs,
    first day, anomaly window) simulated one day longer, of which only the new day's rows are kept.
    Returns the new day and, per feed, its rows in the feed's own shape."""
    longer = SimulationConfig(
        seed=config.seed, n_stores=config.n_stores, n_skus=config.n_skus, n_products=config.n_products,
        start_date=config.start_date, end_date=config.end_date + timedelta(days=1),
        window_start=config.window_start, window_end=config.window_end, chunk_stores=config.chunk_stores,
    )
    new_day = longer.end_date
    world = build_world(longer)
    scenario = build_scenario(world)
    keep: dict[str, list[pa.Table]] = {"sales_northmart": [], "sales_coastco": []}
    for chunk in iter_sales_chunks(world, scenario):
        keep["sales_northmart"].append(chunk.northmart.filter(pc.equal(chunk.northmart["date"], pa.scalar(new_day, pa.date32()))))
        keep["sales_coastco"].append(chunk.coastco.filter(pc.equal(chunk.coastco["TXN_DATE"], new_day.strftime("%Y%m%d"))))
    return new_day, {name: pa.concat_tables(tables) for name, tables in keep.items()}
