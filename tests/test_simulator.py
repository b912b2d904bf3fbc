"""Unit tests of the synthetic-data simulator (`mrs.simulate`, `mrs simulate`).

The anomaly and pattern checks work on the data as a consumer sees it: the two retailers' feeds are
mapped back onto canonical stores and SKUs and zero-filled into one daily series per store x SKU.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from mrs.simulate import TABLE_SCHEMAS, SimulationConfig, simulate, write_simulation, write_world
from mrs.simulate.cli import default_out_dir
from mrs.simulate.cli import simulate as simulate_command
from mrs.simulate.narratives import CAUSE_EVENT_TYPE, build_scenario
from mrs.simulate.sales import iter_sales_chunks, simulate_units
from mrs.simulate.world import build_world

PROJECT_ROOT = Path(__file__).resolve().parents[1]
WINDOW_START, WINDOW_END = date(2025, 8, 7), date(2025, 8, 12)
SMALL = SimulationConfig(seed=11, n_stores=8, n_skus=10, n_products=12).with_days(60)

TABLE_KEYS = {
    "stores": ["store_id"],
    "skus": ["sku_id"],
    "sales_northmart": ["store_id", "sku_id", "date"],
    "sales_coastco": ["STORE_NBR", "EAN", "TXN_DATE"],
    "master_narratives": ["narrative_id"],
    "narrative_targets": ["narrative_id", "store_id", "sku_id"],
    "campaigns": ["campaign_id"],
    "context_events": ["event_id"],
    "products": ["product_id"],
    "prices": ["product_id", "retailer", "observed_on"],
    "alerts": ["alert_id"],
}


@pytest.fixture(scope="module")
def demo() -> dict[str, pd.DataFrame]:
    return {name: t.to_pandas() for name, t in simulate(SimulationConfig()).items()}


@pytest.fixture(scope="module")
def other_world() -> dict[str, pd.DataFrame]:
    return {name: t.to_pandas() for name, t in simulate(SimulationConfig(seed=5)).items()}


# ---- helpers: rebuild what downstream sees ---------------------------------------------------


def daily_units(tables: dict[str, pd.DataFrame], start: date, end: date) -> pd.DataFrame:
    """Units per (store_id, sku_id) x day from both feeds, zero-filled, every store x SKU present."""
    stores, skus = tables["stores"], tables["skus"]
    ref_to_store = dict(zip(stores.retailer_store_ref, stores.store_id, strict=True))
    ean_to_sku = dict(zip(skus.ean, skus.sku_id, strict=True))
    nm, cc = tables["sales_northmart"], tables["sales_coastco"]
    sales = pd.concat(
        [
            pd.DataFrame(
                {
                    "store_id": nm.store_id.map(ref_to_store),
                    "sku_id": nm.sku_id,
                    "date": pd.to_datetime(nm.date),
                    "units": nm.units,
                }
            ),
            pd.DataFrame(
                {
                    "store_id": cc.STORE_NBR.astype(str).map(ref_to_store),
                    "sku_id": cc.EAN.map(ean_to_sku),
                    "date": pd.to_datetime(cc.TXN_DATE, format="%Y%m%d"),
                    "units": cc.QTY,
                }
            ),
        ]
    )
    assert sales.notna().all().all(), "every feed row resolves to a store and a SKU"
    cube = sales.pivot_table(index=["store_id", "sku_id"], columns="date", values="units", aggfunc="sum")
    pairs = pd.MultiIndex.from_product([stores.store_id, skus.sku_id], names=["store_id", "sku_id"])
    return cube.reindex(index=pairs, columns=pd.date_range(start, end)).fillna(0.0)


def window_vs_same_weekday(cube: pd.DataFrame, start: date, end: date) -> tuple[pd.Series, pd.Series]:
    """Units in [start, end] and the expectation from the trailing 4 same-weekday days, per pair."""
    days = pd.date_range(start, end)
    actual = cube[days].sum(axis=1)
    expected = sum(cube[[d - pd.Timedelta(weeks=k) for k in range(1, 5)]].mean(axis=1) for d in days)
    return actual, expected


def campaign_pairs(campaign: pd.Series, tables: dict[str, pd.DataFrame]) -> list[tuple[str, str]]:
    stores, skus = tables["stores"], tables["skus"]
    s = stores[(stores.retailer == campaign.retailer) & (pd.isna(campaign.region) or stores.region == campaign.region)]
    k = skus
    if not pd.isna(campaign.category):
        k = k[k.category == campaign.category]
    if not pd.isna(campaign.sku_id):
        k = k[k.sku_id == campaign.sku_id]
    return [(a, b) for a in s.store_id for b in k.sku_id]


def overlaps(row: pd.Series, start: date, end: date) -> bool:
    return row.start_date <= end and row.end_date >= start


# ---- determinism ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_writes_byte_identical_files(tmp_path: Path, fmt: str) -> None:
    write_simulation(SMALL, tmp_path / "a", fmt)
    write_simulation(SMALL, tmp_path / "b", fmt)
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == sorted(f"{t}.{fmt}" for t in TABLE_SCHEMAS)
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_in_memory_world_and_streamed_world_write_the_same_csv(tmp_path: Path) -> None:
    write_world(simulate(SMALL), tmp_path / "memory", "csv")
    write_simulation(dataclasses.replace(SMALL, chunk_stores=3), tmp_path / "streamed", "csv")
    for table in TABLE_SCHEMAS:
        assert (tmp_path / "memory" / f"{table}.csv").read_bytes() == (tmp_path / "streamed" / f"{table}.csv").read_bytes(), table


def test_sales_do_not_depend_on_the_chunk_size() -> None:
    world = build_world(SMALL)
    scenario = build_scenario(world)
    one = list(iter_sales_chunks(world, scenario, chunk_stores=len(world.stores)))
    many = list(iter_sales_chunks(world, scenario, chunk_stores=3))
    assert len(many) == 3
    for feed in ("northmart", "coastco"):
        whole = getattr(one[0], feed)
        pieces = [getattr(c, feed) for c in many]
        assert sum(p.num_rows for p in pieces) == whole.num_rows
        assert pa.concat_tables(pieces).equals(whole)


def test_another_seed_gives_another_world() -> None:
    a = simulate(dataclasses.replace(SMALL, seed=1))
    b = simulate(dataclasses.replace(SMALL, seed=2))
    assert a["master_narratives"]["title"].to_pylist() != b["master_narratives"]["title"].to_pylist()
    assert not a["narrative_targets"].equals(b["narrative_targets"])
    assert a["stores"]["store_name"].to_pylist() != b["stores"]["store_name"].to_pylist()
    assert a["products"]["product_name"].to_pylist() != b["products"]["product_name"].to_pylist()
    assert not a["sales_northmart"].equals(b["sales_northmart"])


# ---- contract ---------------------------------------------------------------------------------


def test_every_table_has_the_contract_schema_and_is_sorted_by_its_key() -> None:
    tables = simulate(SMALL)
    assert list(tables) == list(TABLE_SCHEMAS)
    for name, table in tables.items():
        assert table.schema.equals(TABLE_SCHEMAS[name]), name
        key = table.select(TABLE_KEYS[name]).to_pandas()
        assert not key.duplicated().any(), f"{name}: duplicate key"
        assert key.equals(key.sort_values(TABLE_KEYS[name]).reset_index(drop=True)), f"{name}: not sorted"


def test_feeds_differ_in_shape_and_map_onto_stores_and_skus(demo: dict[str, pd.DataFrame]) -> None:
    stores, skus = demo["stores"], demo["skus"]
    nm, cc = demo["sales_northmart"], demo["sales_coastco"]
    assert list(nm.columns) == ["store_id", "sku_id", "date", "units", "net_sales"]
    assert list(cc.columns) == ["STORE_NBR", "EAN", "TXN_DATE", "QTY", "SALES_CENTS"]

    assert nm.store_id.str.fullmatch(r"NM-\d{3}").all()
    assert nm.sku_id.str.fullmatch(r"SKU-\d{4}").all()
    assert cc.EAN.str.fullmatch(r"\d{13}").all() and cc.TXN_DATE.str.fullmatch(r"2025\d{4}").all()
    assert cc.STORE_NBR.between(100, 999).all()
    assert (nm.units > 0).all() and (cc.QTY > 0).all(), "zero-unit days are absent from the feeds"

    # northmart reports currency with cents; coastco integer cents; both at believable shelf prices
    assert (nm.net_sales * 100).round(6).mod(1).eq(0).all()
    price = skus.set_index("sku_id").unit_price
    nm_unit = nm.net_sales / nm.units / nm.sku_id.map(price)
    cc_unit = cc.SALES_CENTS / 100 / cc.QTY / cc.EAN.map(skus.set_index("ean").unit_price)
    assert nm_unit.between(0.5, 1.2).all() and cc_unit.between(0.5, 1.2).all()

    # complete mapping: each feed's ids are exactly its retailer's stores and every SKU
    nm_refs = set(stores.loc[stores.retailer == "northmart", "retailer_store_ref"])
    cc_refs = set(stores.loc[stores.retailer == "coastco", "retailer_store_ref"])
    assert set(nm.store_id) == nm_refs
    assert set(cc.STORE_NBR.astype(str)) == cc_refs
    assert set(nm.sku_id) == set(skus.sku_id) and set(cc.EAN) == set(skus.ean)
    assert len(nm_refs | cc_refs) == len(stores) == 20 and len(skus) == 15

    # same days for both feeds
    assert (
        (pd.to_datetime(nm.date).min(), pd.to_datetime(nm.date).max())
        == (
            pd.to_datetime(cc.TXN_DATE).min(),
            pd.to_datetime(cc.TXN_DATE).max(),
        )
        == (pd.Timestamp("2025-05-01"), pd.Timestamp("2025-08-12"))
    )


def test_eans_are_valid_ean13_barcodes(demo: dict[str, pd.DataFrame]) -> None:
    for ean in demo["skus"].ean:
        digits = [int(c) for c in ean]
        assert (sum(digits[0:12:2]) + 3 * sum(digits[1:12:2]) + digits[12]) % 10 == 0, ean


def test_demo_world_uses_its_own_retailers_regions_store_types_and_causes(demo: dict[str, pd.DataFrame]) -> None:
    # the demo's own lists: the warehouse treats these attributes as free text for anyone else's data
    stores, campaigns = demo["stores"], demo["campaigns"]
    assert set(stores.retailer) == set(campaigns.retailer) == {"northmart", "coastco"}
    assert set(stores.region) <= {"north", "south", "east", "west"}
    assert set(stores.store_type) <= {"hypermarket", "supermarket", "convenience"}
    assert stores.retailer_store_ref.is_unique and demo["skus"].ean.is_unique


# ---- sales patterns ---------------------------------------------------------------------------


@pytest.mark.parametrize("world", ["demo", "other_world"])
def test_only_narrative_pairs_deviate_in_the_window(world: str, request: pytest.FixtureRequest) -> None:
    tables = request.getfixturevalue(world)
    cube = daily_units(tables, date(2025, 5, 1), WINDOW_END)
    targets = tables["narrative_targets"]
    target_pairs = set(zip(targets.store_id, targets.sku_id, strict=True))

    for n in tables["master_narratives"].itertuples():
        pairs = targets[targets.narrative_id == n.narrative_id]
        rows = cube.loc[list(zip(pairs.store_id, pairs.sku_id, strict=True))]
        actual, expected = window_vs_same_weekday(rows, n.window_start, n.window_end)
        ratio = actual.sum() / expected.sum()
        if n.direction == "up":
            assert ratio >= 1.5, f"{n.narrative_id} ({n.shape} x{n.magnitude}) only at {ratio:.2f}x normal"
        else:
            assert ratio <= 0.7, f"{n.narrative_id} ({n.shape} x{n.magnitude}) still at {ratio:.2f}x normal"

    others = cube.loc[[p for p in cube.index if p not in target_pairs]]
    actual, expected = window_vs_same_weekday(others, WINDOW_START, WINDOW_END)
    assert 0.9 <= actual.sum() / expected.sum() <= 1.1
    busy = expected >= 18  # >= 3 units a day: noise small enough for a per-pair band
    ratio = actual[busy] / expected[busy]
    assert busy.sum() >= 100
    assert ratio.between(0.6, 1.6).mean() >= 0.9, ratio.describe()


def test_non_target_sales_are_exactly_the_normal_process() -> None:
    world = build_world(SMALL)
    scenario = build_scenario(world)
    calm = dataclasses.replace(scenario, effects=[])
    units, cents = simulate_units(world, scenario, 0, len(world.stores))
    calm_units, calm_cents = simulate_units(world, calm, 0, len(world.stores))
    changed = np.zeros(units.shape, dtype=bool)
    for effect in scenario.effects:
        days = np.flatnonzero(effect.multiplier != 1)
        assert days.min() >= world.calendar.index(WINDOW_START)
        for s, k in zip(effect.stores, effect.skus, strict=True):
            changed[s, k, days] = True
    assert changed.any()
    assert np.array_equal(units[~changed], calm_units[~changed])
    assert np.array_equal(cents[~changed], calm_cents[~changed])
    assert not np.array_equal(units[changed], calm_units[changed])


def test_sales_have_weekly_seasonality_overdispersion_and_slow_movers(demo: dict[str, pd.DataFrame]) -> None:
    cube = daily_units(demo, date(2025, 5, 1), WINDOW_END)
    pre = cube.loc[:, : pd.Timestamp(WINDOW_START) - pd.Timedelta(days=1)]
    by_weekday = pre.sum(axis=0).groupby(pre.columns.day_of_week).mean()
    assert by_weekday[5] > 1.1 * by_weekday[[0, 1]].mean(), "Saturdays sell more than early weekdays"

    per_sku = cube.mean(axis=1).groupby(level="sku_id").mean()
    assert (per_sku < 1).sum() >= 1, "intermittent SKUs sell under one unit a day"
    assert (per_sku > 3).sum() >= 5
    slow = pre.loc[pre.index.get_level_values("sku_id").isin(per_sku[per_sku < 1].index)]
    assert (slow == 0).mean().mean() > 0.4, "slow movers have many zero days"

    busy = pre[pre.mean(axis=1) > 5]
    dispersion = (busy.var(axis=1) / busy.mean(axis=1)).median()
    assert dispersion > 1.3, "counts are overdispersed (Poisson-gamma), not plain Poisson"


def test_earlier_campaigns_really_lift_their_pairs(demo: dict[str, pd.DataFrame]) -> None:
    cube = daily_units(demo, date(2025, 5, 1), WINDOW_END)
    campaigns = demo["campaigns"]
    earlier = campaigns[campaigns.end_date < WINDOW_START - timedelta(days=28)]
    assert len(earlier) >= 3
    covered = pd.DataFrame(False, index=cube.index, columns=cube.columns)
    for c in earlier.itertuples():
        covered.loc[campaign_pairs(pd.Series(c._asdict()), demo), pd.date_range(c.start_date, c.end_date)] = True
    normal_mean = cube.where(~covered).loc[:, : pd.Timestamp(WINDOW_START) - pd.Timedelta(days=1)].mean(axis=1)
    lifts = []
    for c in earlier.itertuples():
        pairs = campaign_pairs(pd.Series(c._asdict()), demo)
        assert pairs, f"{c.campaign_id} covers no store x SKU"
        days = pd.date_range(c.start_date, c.end_date)
        if normal_mean[pairs].sum() * len(days) < 40:
            continue  # too few units (e.g. one slow mover) to tell a lift from noise
        lifts.append(cube.loc[pairs, days].mean(axis=1).sum() / normal_mean[pairs].sum())
    assert lifts and min(lifts) > 1.05 and float(np.mean(lifts)) > 1.2, lifts


# ---- narratives, campaigns, events ------------------------------------------------------------


@pytest.mark.parametrize("world", ["demo", "other_world"])
def test_every_narrative_is_backed_by_an_overlapping_campaign_or_event(world: str, request: pytest.FixtureRequest) -> None:
    tables = request.getfixturevalue(world)
    narratives, targets = tables["master_narratives"], tables["narrative_targets"]
    stores = tables["stores"].set_index("store_id")
    skus = tables["skus"].set_index("sku_id")
    campaigns, events = tables["campaigns"], tables["context_events"]

    assert 5 <= len(narratives) <= 8
    assert not targets.duplicated(["store_id", "sku_id"]).any(), "a pair belongs to at most one narrative"
    clusters = narratives.groupby("cluster_name")
    assert clusters.size().max() >= 2, "some narratives share a cluster"
    assert (clusters["shape"].nunique() == 1).all() and (clusters["direction"].nunique() == 1).all()
    for n in narratives.itertuples():
        assert WINDOW_START <= n.window_start <= n.window_end <= WINDOW_END
        assert (n.direction == "up") == (n.magnitude > 1)
        t = targets[targets.narrative_id == n.narrative_id]
        assert 1 <= len(t) <= 6
        t_stores = stores.loc[t.store_id]
        if n.cause_type == "campaign":
            ok = [
                c
                for c in campaigns.itertuples()
                if overlaps(pd.Series(c._asdict()), n.window_start, n.window_end)
                and (t_stores.retailer == c.retailer).all()
                and (pd.isna(c.region) or (t_stores.region == c.region).all())
                and (pd.isna(c.category) or (skus.loc[t.sku_id].category == c.category).all())
                and (pd.isna(c.sku_id) or (t.sku_id == c.sku_id).all())
            ]
        else:
            ok = [
                e
                for e in events.itertuples()
                if e.event_type == CAUSE_EVENT_TYPE[n.cause_type]
                and overlaps(pd.Series(e._asdict()), n.window_start, n.window_end)
                and (
                    (not pd.isna(e.store_id) and (t.store_id == e.store_id).all())
                    or (pd.isna(e.store_id) and (pd.isna(e.region) or (t_stores.region == e.region).all()))
                )
            ]
        assert ok, f"{n.narrative_id} ({n.cause_type}: {n.cause}) has nothing backing it"


def test_unrelated_campaigns_and_events_leave_the_window_alone(demo: dict[str, pd.DataFrame]) -> None:
    targets = demo["narrative_targets"]
    stores = demo["stores"].set_index("store_id")
    target_stores = set(targets.store_id)
    target_regions = set(stores.loc[list(target_stores), "region"])
    narratives = demo["master_narratives"]

    campaigns = demo["campaigns"]
    in_window = campaigns[(campaigns.end_date >= WINDOW_START - timedelta(days=28))]
    assert (in_window.start_date >= WINDOW_START).all(), "no promotion runs into the 4-week baseline"
    assert len(in_window) == (narratives.cause_type == "campaign").sum()

    events = demo["context_events"]
    window_events = events[events.end_date >= WINDOW_START]
    backed = sum(n.cause_type != "campaign" for n in narratives.itertuples())
    unrelated = window_events[window_events.severity < 0.5]
    assert len(window_events) - len(unrelated) == backed
    for e in unrelated.itertuples():
        if not pd.isna(e.store_id):
            assert e.store_id not in target_stores
        else:
            assert e.region not in target_regions
    assert (events.start_date < WINDOW_START).sum() >= 2, "there are earlier events too"


# ---- product insights domain ------------------------------------------------------------------


def test_product_histories_cover_every_kind(demo: dict[str, pd.DataFrame]) -> None:
    products, prices = demo["products"], demo["prices"]
    assert len(products) == 40
    assert set(products.category) <= {"booster_box", "elite_trainer_box", "booster_bundle", "collection_box", "tin"}
    assert products.popularity_score.between(0, 100).all() and (products.msrp > 0).all()
    assert set(prices.retailer) == {"northmart", "coastco", "cardhaven"}
    assert (prices.price > 0).all()

    points = prices.groupby("product_id").size().reindex(products.product_id, fill_value=0)
    assert (points == 0).sum() >= 2, "empty histories"
    assert (points == 1).sum() >= 1, "a single price point"
    assert points.between(2, 6).sum() >= 1, "short histories"

    trends = []
    for (_, _), series in prices.groupby(["product_id", "retailer"]):
        if len(series) < 80:
            continue
        days = pd.to_datetime(series.observed_on)
        assert days.diff().dt.days.max() > 1, "long histories have gaps"
        ratio = series.price.tail(7).mean() / series.price.head(7).mean()
        trends.append("rising" if ratio > 1.12 else "falling" if ratio < 0.92 else "flat" if abs(ratio - 1) < 0.05 else "?")
    assert {"rising", "falling", "flat"} <= set(trends)


def test_alert_velocity_varies_and_some_products_burst(demo: dict[str, pd.DataFrame]) -> None:
    alerts, products = demo["alerts"], demo["products"].set_index("product_id")
    assert set(alerts.alert_type) == {"restock", "price_drop", "preorder"}
    at = pd.to_datetime(alerts.alerted_at)
    release = pd.to_datetime(alerts.product_id.map(products.release_date))
    assert (at[alerts.alert_type == "preorder"] < release[alerts.alert_type == "preorder"]).all()
    assert (at[alerts.alert_type != "preorder"] >= release[alerts.alert_type != "preorder"]).all()

    last7 = at >= pd.Timestamp("2025-08-06")
    recent = alerts[last7].groupby("product_id").size()
    before = alerts[at < pd.Timestamp("2025-08-06")].groupby("product_id").size() / (97 / 7)
    weekly_before = before.reindex(recent.index, fill_value=0)
    bursts = recent[(recent >= 10) & (recent >= 2.5 * weekly_before)]
    assert len(bursts) >= 2, recent.sort_values().tail()

    per_product = alerts.groupby("product_id").size()
    assert per_product.max() >= 5 * per_product.min()


# ---- CLI and demo seeds -----------------------------------------------------------------------


def test_cli_writes_parquet_with_the_contract_types(tmp_path: Path) -> None:
    out = tmp_path / "world"
    result = CliRunner().invoke(
        simulate_command,
        [
            "--seed",
            "3",
            "--stores",
            "6",
            "--skus",
            "8",
            "--days",
            "40",
            "--products",
            "10",
            "--format",
            "parquet",
            "--out",
            str(out),
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"11 tables, [\d,]+ rows .* as parquet in .*world", result.output)
    assert len(result.output.strip().splitlines()) == 1
    for name, schema in TABLE_SCHEMAS.items():
        # Parquet stores second-precision timestamps as milliseconds
        expected = pa.schema([f.with_type(pa.timestamp("ms")) if f.type == pa.timestamp("s") else f for f in schema])
        assert pq.read_schema(out / f"{name}.parquet").remove_metadata().equals(expected), name
    dates = pq.read_table(out / "sales_northmart.parquet").column("date").to_pylist()
    assert min(dates) == date(2025, 8, 12) - timedelta(days=39) and max(dates) == date(2025, 8, 12)


def test_cli_rejects_a_too_short_history(tmp_path: Path) -> None:
    result = CliRunner().invoke(simulate_command, ["--days", "20", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "--days" in result.output


def test_default_output_is_the_dbt_projects_seeds_folder(tmp_path: Path) -> None:
    (tmp_path / "dbt_project.yml").write_text("name: x\n")
    nested = tmp_path / "models" / "staging"
    nested.mkdir(parents=True)
    assert default_out_dir(nested) == tmp_path.resolve() / "seeds"
    elsewhere = tmp_path.parent / f"{tmp_path.name}-no-project"
    elsewhere.mkdir()
    assert default_out_dir(elsewhere) == elsewhere.resolve() / "seeds"


def test_committed_demo_seeds_are_what_the_simulator_writes(tmp_path: Path) -> None:
    seeds = PROJECT_ROOT / "seeds"
    write_world(simulate(SimulationConfig()), tmp_path, "csv")
    total = 0
    for table in TABLE_SCHEMAS:
        committed = seeds / f"{table}.csv"
        assert committed.is_file(), f"missing {committed}: run `mrs simulate`"
        assert committed.read_bytes() == (tmp_path / f"{table}.csv").read_bytes(), (
            f"{committed} is stale: run `mrs simulate` and commit the seeds"
        )
        total += committed.stat().st_size
    assert total < 5_000_000
