"""Your own data: the canonical contract, raw tables from CSV / Parquet / warehouse tables / seeds,
retailer feeds mapped to the contract, and the demo world's logs unchanged by all of it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from conftest import PROJECT_ROOT, Warehouse

pytestmark = pytest.mark.integration

SEEDS = PROJECT_ROOT / "seeds"
DEMO_DIGESTS = Path(__file__).parent / "data" / "demo_log_digests.json"
#: the inference logs whose rows must not change when the raw data reaches them by another route
INFERENCE_LOGS = ("product_insights_log", "baseline_log", "detection_log", "cluster_log", "attribution_log")
DEMO_RAW_TABLES: dict[str, str] = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]["raw_tables"]


def log_digests(warehouse: Warehouse) -> dict[str, dict[str, object]]:
    """Per inference log: its row count and a digest of its sorted (log_id, input_fingerprint) pairs."""
    digests: dict[str, dict[str, object]] = {}
    for log in INFERENCE_LOGS:
        pairs = warehouse.query(f"select log_id, input_fingerprint from ml.{log} order by log_id, input_fingerprint")
        text = "\n".join(f"{log_id}|{fingerprint}" for log_id, fingerprint in pairs)
        digests[log] = {"rows": len(pairs), "sha256": hashlib.sha256(text.encode()).hexdigest()}
    return digests


def test_demo_build_appends_the_same_log_rows_as_before_the_contract(built_warehouse: Warehouse) -> None:
    # The committed digests were taken from a build of the demo seeds before the canonical contract
    # existed (identical to main's). A change that legitimately changes a model's outputs updates
    # them with MRS_UPDATE_DEMO_DIGESTS=1 and says why in its commit.
    got = log_digests(built_warehouse)
    if os.environ.get("MRS_UPDATE_DEMO_DIGESTS"):
        DEMO_DIGESTS.write_text(json.dumps(got, indent=2, sort_keys=True) + "\n")
    assert got == json.loads(DEMO_DIGESTS.read_text())


def _write_parquet_from_seed(seed: str, dest: Path) -> Path:
    with duckdb.connect() as con:
        con.sql(f"copy (select * from read_csv('{SEEDS / seed}.csv', header = true, all_varchar = true)) to '{dest}' (format parquet)")
    return dest


def test_raw_tables_mix_csv_parquet_folders_warehouse_tables_and_seeds(project_copy: Warehouse, tmp_path: Path) -> None:
    # stores from a CSV file, skus from a Parquet file, the northmart feed from a Parquet folder,
    # coastco from a warehouse table, prices from a seed; alerts (and everything unnamed) absent
    files = tmp_path / "files"
    (files / "northmart").mkdir(parents=True)
    shutil.copy(SEEDS / "stores.csv", files / "stores.csv")
    _write_parquet_from_seed("skus", files / "skus.parquet")
    _write_parquet_from_seed("sales_northmart", files / "northmart" / "part-0.parquet")
    with duckdb.connect(str(project_copy.path)) as con:
        con.sql("create schema if not exists landing")
        con.sql(f"create table landing.coastco as select * from read_csv('{SEEDS / 'sales_coastco'}.csv', header = true, all_varchar = true)")
    raw_tables = {
        "stores": str(files / "stores.csv"),
        "skus": str(files / "skus.parquet"),
        "sales_northmart": f"{files / 'northmart'}/",
        "sales_coastco": "landing.coastco",
        "prices": "seed",
        "products": "seed",
    }
    project_copy.dbt(
        "build", "--indirect-selection", "cautious", "--select", "+unified_sales_data", "+stg_price_tracker__prices",
        "+stg_price_tracker__products", "stg_price_tracker__alerts", "stg_marketing__campaigns",
        "stg_narratives__narratives", "stg_canonical__sales", vars={"raw_tables": raw_tables},
    )

    def seed_rows(name: str) -> int:
        with (SEEDS / f"{name}.csv").open() as f:
            return sum(1 for _ in f) - 1

    for model, seed in [
        ("stg_store_master__stores", "stores"), ("stg_store_master__skus", "skus"),
        ("stg_northmart__sales", "sales_northmart"), ("stg_coastco__sales", "sales_coastco"),
        ("stg_price_tracker__prices", "prices"),
    ]:
        assert project_copy.scalar(f"select count(*) from staging.{model}") == seed_rows(seed), model
    for absent in ("stg_price_tracker__alerts", "stg_marketing__campaigns", "stg_narratives__narratives", "stg_canonical__sales"):
        assert project_copy.scalar(f"select count(*) from staging.{absent}") == 0, absent
    # EANs stay text with their leading zeros, whichever route the table took
    assert project_copy.scalar(
        "select count(*) from staging.stg_coastco__sales as c "
        "left join staging.stg_store_master__skus as s on s.ean = c.ean where s.sku_id is null"
    ) == 0
    units = project_copy.scalar("select sum(units_sold) from intermediate.unified_sales_data")
    feeds = project_copy.scalar(
        "select (select sum(units_sold) from staging.stg_northmart__sales) + (select sum(units_sold) from staging.stg_coastco__sales)"
    )
    assert units == feeds


THIRD_FEED_SQL = """
-- harbourfresh sends store codes, SKU ids, DD/MM/YYYY dates and no revenue
with source as (select * from {{ source('harbourfresh', 'sales_harbourfresh') }}),
renamed as (
    select
        'harbourfresh' as retailer,
        cast(null as varchar) as store_id,
        cast(shop as varchar) as retailer_store_ref,
        cast(article as varchar) as sku_id,
        cast(null as varchar) as ean,
        strptime(day, '%d/%m/%Y')::date as sales_date,
        cast(qty as bigint) as units_sold,
        cast(0 as double) as revenue
    from source
)
select * from renamed
"""

THIRD_FEED_SOURCES = """
version: 2
sources:
  - name: harbourfresh
    schema: raw
    tables:
      - name: sales_harbourfresh
        columns:
          - {name: shop, data_type: varchar}
          - {name: article, data_type: varchar}
          - {name: day, data_type: varchar}
          - {name: qty, data_type: bigint}
models:
  - name: stg_harbourfresh__sales
    data_tests: [sales_feed_contract]
"""


def test_a_third_feed_is_one_staging_model_and_one_line_of_configuration(project_copy: Warehouse, tmp_path: Path) -> None:
    project = project_copy.project_dir
    feed_dir = project / "models" / "staging" / "harbourfresh"
    feed_dir.mkdir()
    (feed_dir / "stg_harbourfresh__sales.sql").write_text(THIRD_FEED_SQL)
    (feed_dir / "_harbourfresh__sources.yml").write_text(THIRD_FEED_SOURCES)
    stores = (SEEDS / "stores.csv").read_text().splitlines()
    (tmp_path / "stores.csv").write_text("\n".join(stores + ["ST900,harbourfresh,HF-1,Harbour One,coast,kiosk,Portsmouth"]) + "\n")
    (tmp_path / "harbourfresh.csv").write_text("shop,article,day,qty\nHF-1,SKU-0001,01/08/2025,4\nHF-1,SKU-0002,12/08/2025,3\n")
    raw_tables = {**DEMO_RAW_TABLES, "stores": str(tmp_path / "stores.csv"), "sales_harbourfresh": str(tmp_path / "harbourfresh.csv")}
    feeds = ["stg_northmart__sales", "stg_coastco__sales", "stg_harbourfresh__sales"]
    project_copy.dbt(
        "build", "--indirect-selection", "cautious", "--select", "+unified_sales_data",
        vars={"raw_tables": raw_tables, "sales_feeds": feeds},
    )

    rows = project_copy.query(
        "select sales_date::varchar, units_sold, retailer from intermediate.unified_sales_data "
        "where store_id = 'ST900' and units_sold > 0 order by sales_date"
    )
    assert rows == [("2025-08-01", 4, "harbourfresh"), ("2025-08-12", 3, "harbourfresh")]
    region, store_type = project_copy.query("select region, store_type from staging.stg_store_master__stores where store_id = 'ST900'")[0]
    assert (region, store_type) == ("coast", "kiosk")  # free text, not a fixed list


def test_a_feed_that_breaks_the_contract_fails_its_contract_test(project_copy: Warehouse, tmp_path: Path) -> None:
    (tmp_path / "sales.csv").write_text("store_id,sku_id,sales_date,units\nS1,A,2025-01-06,3\nS1,,2025-01-13,-2\n")
    result = project_copy.dbt("build", "--indirect-selection", "cautious", "--select", "+stg_canonical__sales", vars={"raw_tables": {"sales": str(tmp_path / "sales.csv")}}, check=False)
    assert result.returncode != 0
    assert "sales_feed_contract_stg_canonical__sales" in result.stdout
