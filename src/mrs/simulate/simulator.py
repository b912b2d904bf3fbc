"""Putting a world together: `simulate` (in memory) and `write_simulation` (streamed to files)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from tqdm import tqdm

from mrs.simulate import schemas
from mrs.simulate.config import SimulationConfig
from mrs.simulate.narratives import Scenario, build_scenario
from mrs.simulate.products import build_products
from mrs.simulate.sales import iter_sales_chunks
from mrs.simulate.world import World, build_world
from mrs.simulate.writer import TableSink, write_table


def _small_tables(world: World, scenario: Scenario) -> dict[str, pa.Table]:
    return {
        "stores": world.stores.to_table(),
        "skus": world.skus.to_table(),
        **scenario.tables,
        **build_products(world.config),
    }


def simulate(config: SimulationConfig | None = None) -> dict[str, pa.Table]:
    """Every table of the world, in memory (for tests and small worlds), keyed by table name."""
    config = config or SimulationConfig()
    world = build_world(config)
    scenario = build_scenario(world)
    small = _small_tables(world, scenario)
    chunks = list(iter_sales_chunks(world, scenario))
    sales = {
        "sales_northmart": pa.concat_tables([c.northmart for c in chunks]),
        "sales_coastco": pa.concat_tables([c.coastco for c in chunks]),
    }
    return {name: (sales[name] if name in sales else small[name]) for name in schemas.TABLE_SCHEMAS}


def write_simulation(
    config: SimulationConfig,
    out_dir: Path | str,
    fmt: str = "csv",
    progress: bool = False,
) -> dict[str, int]:
    """Generate the world and write one file per table, streaming the sales feeds a chunk of
    stores at a time (memory stays bounded whatever the size). Returns row counts per table."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    world = build_world(config)
    scenario = build_scenario(world)
    rows: dict[str, int] = {}
    for name, table in _small_tables(world, scenario).items():
        write_table(table, out_dir, name, fmt, schemas.TABLE_SCHEMAS[name])
        rows[name] = table.num_rows

    with (
        TableSink(out_dir, "sales_northmart", schemas.SALES_NORTHMART, fmt) as northmart,
        TableSink(out_dir, "sales_coastco", schemas.SALES_COASTCO, fmt) as coastco,
        tqdm(total=config.n_stores, unit="store", desc="sales", disable=not progress) as bar,
    ):
        for chunk in iter_sales_chunks(world, scenario):
            northmart.write(chunk.northmart)
            coastco.write(chunk.coastco)
            bar.update(chunk.n_stores)
    rows["sales_northmart"] = northmart.rows
    rows["sales_coastco"] = coastco.rows
    return {name: rows[name] for name in schemas.TABLE_SCHEMAS}
