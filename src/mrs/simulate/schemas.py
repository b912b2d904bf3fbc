"""Explicit Arrow schemas of the raw tables (see docs/data_contract.md).

Money and other decimals are float64 rounded to 2 decimals (CSV writes them with exactly two
decimals); dates are date32; the alert timestamp is timestamp[s]; codes (EAN, TXN_DATE) are strings.
"""

from __future__ import annotations

import pyarrow as pa

STR = pa.string()
DATE = pa.date32()
F64 = pa.float64()
I64 = pa.int64()

STORES = pa.schema(
    [
        ("store_id", STR),
        ("retailer", STR),
        ("retailer_store_ref", STR),
        ("store_name", STR),
        ("region", STR),
        ("store_type", STR),
        ("city", STR),
    ]
)
SKUS = pa.schema([("sku_id", STR), ("ean", STR), ("sku_name", STR), ("category", STR), ("unit_price", F64)])
SALES_NORTHMART = pa.schema([("store_id", STR), ("sku_id", STR), ("date", DATE), ("units", I64), ("net_sales", F64)])
SALES_COASTCO = pa.schema([("STORE_NBR", I64), ("EAN", STR), ("TXN_DATE", STR), ("QTY", I64), ("SALES_CENTS", I64)])
MASTER_NARRATIVES = pa.schema(
    [
        ("narrative_id", STR),
        ("title", STR),
        ("window_start", DATE),
        ("window_end", DATE),
        ("shape", STR),
        ("direction", STR),
        ("magnitude", F64),
        ("cluster_name", STR),
        ("cause_type", STR),
        ("cause", STR),
        ("confidence", F64),
    ]
)
NARRATIVE_TARGETS = pa.schema([("narrative_id", STR), ("store_id", STR), ("sku_id", STR)])
CAMPAIGNS = pa.schema(
    [
        ("campaign_id", STR),
        ("campaign_name", STR),
        ("retailer", STR),
        ("region", STR),
        ("category", STR),
        ("sku_id", STR),
        ("channel", STR),
        ("start_date", DATE),
        ("end_date", DATE),
        ("discount_pct", F64),
    ]
)
CONTEXT_EVENTS = pa.schema(
    [
        ("event_id", STR),
        ("event_type", STR),
        ("description", STR),
        ("region", STR),
        ("store_id", STR),
        ("start_date", DATE),
        ("end_date", DATE),
        ("severity", F64),
    ]
)
PRODUCTS = pa.schema(
    [
        ("product_id", STR),
        ("product_name", STR),
        ("category", STR),
        ("msrp", F64),
        ("release_date", DATE),
        ("popularity_score", I64),
    ]
)
PRICES = pa.schema([("product_id", STR), ("retailer", STR), ("observed_on", DATE), ("price", F64)])
ALERTS = pa.schema(
    [
        ("alert_id", STR),
        ("product_id", STR),
        ("retailer", STR),
        ("alert_type", STR),
        ("alerted_at", pa.timestamp("s")),
    ]
)

#: Every table the simulator writes, in writing order.
TABLE_SCHEMAS: dict[str, pa.Schema] = {
    "stores": STORES,
    "skus": SKUS,
    "sales_northmart": SALES_NORTHMART,
    "sales_coastco": SALES_COASTCO,
    "master_narratives": MASTER_NARRATIVES,
    "narrative_targets": NARRATIVE_TARGETS,
    "campaigns": CAMPAIGNS,
    "context_events": CONTEXT_EVENTS,
    "products": PRODUCTS,
    "prices": PRICES,
    "alerts": ALERTS,
}

SALES_TABLES = ("sales_northmart", "sales_coastco")
