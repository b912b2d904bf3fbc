"""The project builds on any simulated world: a Parquet folder selected by a var, no model change."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Warehouse

from mrs.simulate import SimulationConfig, write_simulation

pytestmark = pytest.mark.integration


def test_build_on_a_parquet_world_reads_it_instead_of_the_seeds(project_copy: Warehouse, tmp_path: Path) -> None:
    config = SimulationConfig(seed=7, n_stores=6, n_skus=6, n_products=12).with_days(45)
    world = tmp_path / "world"
    rows = write_simulation(config, world, "parquet")

    project_copy.dbt("build", vars={"raw_parquet_dir": str(world)})

    units_in_feeds = project_copy.scalar(
        f"select (select sum(units) from read_parquet('{world}/sales_northmart.parquet')) "
        f"     + (select sum(QTY) from read_parquet('{world}/sales_coastco.parquet'))"
    )
    count, units, stores, skus, days = project_copy.query(
        "select count(*), sum(units_sold), count(distinct store_id), count(distinct sku_id), "
        "count(distinct sales_date) from intermediate.unified_sales_data"
    )[0]
    assert (stores, skus, days) == (6, 6, 45)
    assert count == 6 * 6 * 45
    assert units == units_in_feeds
    assert project_copy.scalar("select count(distinct product_id) from intermediate.int_price_windows") == 12
    assert rows["sales_northmart"] + rows["sales_coastco"] == project_copy.scalar(
        "select (select count(*) from staging.stg_northmart__sales) + (select count(*) from staging.stg_coastco__sales)"
    )
