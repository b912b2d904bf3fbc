"""The product-insights domain: trading-card products, their price histories and restock alerts.

History kinds are deliberate: long (~100 daily-ish points with gaps) with a rising, falling or flat
trend; short (2-6 points, recent releases or rarely listed products); a single point; and empty
(upcoming releases nobody lists yet). Alert velocity grows with popularity, and a few products get
a burst of alerts in the last 7 days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mrs.simulate import schemas
from mrs.simulate.config import SimulationConfig
from mrs.simulate.random_streams import stream

PRODUCT_RETAILERS = ("northmart", "coastco", "cardhaven")
PRODUCT_CATEGORIES = ("booster_box", "elite_trainer_box", "booster_bundle", "collection_box", "tin")
_LABELS = {
    "booster_box": "Booster Box",
    "elite_trainer_box": "Elite Trainer Box",
    "booster_bundle": "Booster Bundle",
    "collection_box": "Premium Collection Box",
    "tin": "Collector Tin",
}
_MSRP = {
    "booster_box": (119.99, 143.64, 161.64),
    "elite_trainer_box": (49.99, 54.99, 59.99),
    "booster_bundle": (26.94, 29.99, 32.99),
    "collection_box": (39.99, 49.99, 69.99, 119.99),
    "tin": (19.99, 24.99, 26.99),
}
_GAMES = ("Mythgate", "Starfall Legends", "Arcanum", "Dragon Circuit", "Spirit Tamers", "Runebound")
_SET_ADJ = (
    "Ember",
    "Obsidian",
    "Crystal",
    "Storm",
    "Solar",
    "Hidden",
    "Iron",
    "Tidal",
    "Shadow",
    "Radiant",
    "Frozen",
    "Verdant",
    "Astral",
    "Crimson",
    "Silent",
    "Golden",
)
_SET_NOUN = (
    "Dawn",
    "Tide",
    "Crown",
    "Vanguard",
    "Eclipse",
    "Grove",
    "Bloom",
    "Rift",
    "Legacy",
    "Horizon",
    "Ascension",
    "Odyssey",
    "Frontier",
    "Requiem",
    "Genesis",
    "Paradox",
)
_RETAILER_PRICE = {"northmart": 1.0, "coastco": 0.97, "cardhaven": 1.06}

#: the price-trend of a long history: total log change over the period
_TREND_RANGE = {"rising": (0.25, 0.7), "falling": (-0.45, -0.15), "flat": (0.0, 0.0)}


@dataclass(frozen=True)
class _Product:
    product_id: str
    name: str
    category: str
    msrp: float
    release_date: date
    popularity: int
    history: str  # long, short, single, empty
    trend: str  # rising, falling, flat
    retailers: tuple[str, ...]
    burst: bool


def _set_names(rng: np.random.Generator, n: int) -> list[str]:
    games = [_GAMES[i] for i in rng.choice(len(_GAMES), 3, replace=False)]
    combos = [(a, b) for a in _SET_ADJ for b in _SET_NOUN]
    order = rng.permutation(len(combos))
    names = []
    for j in range(n):  # very large catalogues reuse set names as numbered sequels
        adj, noun = combos[order[j % len(combos)]]
        sequel = f" {j // len(combos) + 1}" if j >= len(combos) else ""
        names.append(f"{games[int(rng.integers(0, 3))]}: {adj} {noun}{sequel}")
    return names


def _catalogue(config: SimulationConfig) -> list[_Product]:
    rng = stream(config.seed, "products")
    n = config.n_products
    start, end = config.start_date, config.end_date
    extra = rng.choice(["long", "short", "single", "empty"], n - 7, p=[0.72, 0.14, 0.08, 0.06])
    kinds = ["empty", "empty", "single", "short", "long", "long", "long"] + list(extra)

    # products come in sets (one release date per set, distinct product types within a set)
    timing = {"empty": "upcoming", "single": "recent", "short": "recent", "long": "old"}
    slots: dict[str, list[str]] = {"upcoming": [], "recent": [], "old": []}
    for k in kinds:
        slots[timing[k]].append(k)
    groups: list[tuple[str, list[str]]] = []
    for t, members in slots.items():
        members = list(rng.permutation(members)) if members else []
        while members:
            size = int(rng.integers(2, 5))
            groups.append((t, [str(m) for m in members[:size]]))
            members = members[size:]
    names = _set_names(rng, len(groups))

    old_span = (start - timedelta(days=45) - date(2023, 1, 15)).days
    products: list[dict] = []
    for (t, members), set_name in zip(groups, names, strict=True):
        if t == "upcoming":
            release = end + timedelta(days=int(rng.integers(10, 91)))
        elif t == "recent":
            release = end - timedelta(days=int(rng.integers(4, 25)))
        else:
            release = date(2023, 1, 15) + timedelta(days=int(rng.integers(0, old_span)))
        cats = rng.choice(len(PRODUCT_CATEGORIES), len(members), replace=False)
        for kind, c in zip(members, cats, strict=True):
            cat = PRODUCT_CATEGORIES[int(c)]
            pop_lo, pop_hi = {"upcoming": (55, 96), "recent": (35, 92), "old": (5, 96)}[t]
            products.append(
                {
                    "name": f"{set_name} {_LABELS[cat]}",
                    "category": cat,
                    "msrp": float(rng.choice(_MSRP[cat])),
                    "release_date": release,
                    "popularity": int(rng.integers(pop_lo, pop_hi)),
                    "history": kind,
                }
            )

    # trends: the first three long histories cover rising, falling and flat; the rest are drawn
    long_idx = [i for i, p in enumerate(products) if p["history"] == "long"]
    trends = ["rising", "falling", "flat"] + list(
        rng.choice(["rising", "falling", "flat"], max(0, len(long_idx) - 3), p=[0.4, 0.3, 0.3])
    )
    # at least three trends even with fewer long-history products: the surplus goes unused
    trend_of = dict(zip(long_idx, rng.permutation(trends), strict=False))
    n_burst = max(2, n // 12)
    hyped = [i for i, p in enumerate(products) if p["history"] != "single"]
    hyped = sorted(hyped, key=lambda i: -products[i]["popularity"])[: max(n_burst * 2, n_burst)]
    bursts = set(int(i) for i in rng.choice(hyped, n_burst, replace=False))

    order = rng.permutation(len(products))
    out = []
    for pid, i in enumerate(order.tolist()):
        p = products[i]
        kind = p["history"]
        if kind == "long":
            n_ret = int(rng.integers(1, 4))
        elif kind in ("short", "single"):  # under 7 points in total: one retailer lists it
            n_ret = 1
        else:
            n_ret = 0
        retailers = tuple(sorted(PRODUCT_RETAILERS[j] for j in rng.choice(3, n_ret, replace=False)))
        trend = str(trend_of.get(i, rng.choice(["rising", "falling", "flat"])))
        out.append(
            _Product(
                product_id=f"P{pid + 1:04d}",
                name=p["name"],
                category=p["category"],
                msrp=p["msrp"],
                release_date=p["release_date"],
                popularity=p["popularity"],
                history=kind,
                trend=trend,
                retailers=retailers,
                burst=i in bursts,
            )
        )
    return out


def _observation_days(rng: np.random.Generator, kind: str, first: int, last: int) -> np.ndarray:
    """Day indices (0 = start) with a price observation for one product x retailer."""
    if kind == "long":
        days = np.arange(first, last + 1)
        keep = rng.random(days.size) < 0.93
        for _ in range(int(rng.integers(1, 3))):  # scraper outages
            gap_start = int(rng.integers(first, max(first + 1, last - 6)))
            keep[(days >= gap_start) & (days < gap_start + int(rng.integers(3, 7)))] = False
        keep[[0, -1]] = True
        return days[keep]
    if kind == "short":
        window = np.arange(max(first, last - 20), last + 1)
        n = min(window.size, int(rng.integers(2, 7)))
        return np.sort(rng.choice(window, n, replace=False))
    window = np.arange(max(first, last - 9), last + 1)  # single
    return np.array([int(rng.choice(window))])


def _prices(config: SimulationConfig, catalogue: list[_Product]) -> pa.Table:
    rng = stream(config.seed, "prices")
    n_days = config.n_days
    start = np.datetime64(config.start_date, "D")
    cols: dict[str, list] = {"product_id": [], "retailer": [], "observed_on": [], "price": []}
    for p in catalogue:
        lo, hi = _TREND_RANGE[p.trend]
        growth = float(rng.uniform(lo, hi)) if hi > lo else 0.0
        level = p.msrp * float(rng.uniform(0.9, 1.3))
        first = max(0, (p.release_date - config.start_date).days)
        for retailer in p.retailers:
            days = _observation_days(rng, p.history, first, n_days - 1)
            u = days / max(1, n_days - 1)
            offset = _RETAILER_PRICE[retailer] * float(rng.uniform(0.98, 1.02))
            if p.trend == "flat":
                # sticky shelf price with rare small changes
                steps = np.where(rng.random(days.size) < 0.04, rng.normal(0, 0.01, days.size), 0.0)
                price = level * offset * np.exp(np.clip(np.cumsum(steps), -0.02, 0.02))
                price = np.floor(price) + 0.99
            else:
                noise = rng.normal(0, 0.012, days.size) + np.cumsum(rng.normal(0, 0.003, days.size))
                price = level * offset * np.exp(growth * u**1.2 + noise)
            cols["product_id"] += [p.product_id] * days.size
            cols["retailer"] += [retailer] * days.size
            cols["observed_on"].append(start + days)
            cols["price"].append(np.round(np.maximum(price, 0.99), 2))
    table = pa.table(
        {
            "product_id": pa.array(cols["product_id"], pa.string()),
            "retailer": pa.array(cols["retailer"], pa.string()),
            "observed_on": pa.array(np.concatenate(cols["observed_on"]) if cols["observed_on"] else [], pa.date32()),
            "price": pa.array(np.concatenate(cols["price"]) if cols["price"] else [], pa.float64()),
        },
        schema=schemas.PRICES,
    )
    return table.sort_by([("product_id", "ascending"), ("retailer", "ascending"), ("observed_on", "ascending")])


def _alerts(config: SimulationConfig, catalogue: list[_Product]) -> pa.Table:
    rng = stream(config.seed, "alerts")
    n_days = config.n_days
    start = np.datetime64(config.start_date, "D")
    product_ids, retailers, types, stamps = [], [], [], []
    for p in catalogue:
        lead = 75 if p.history == "empty" else 45
        first = max(0, (p.release_date - config.start_date).days - lead)
        if p.burst:
            first = min(first, n_days - 7)
        if first > n_days - 1:
            continue
        days = np.arange(first, n_days)
        rate = (0.03 + 0.5 * (p.popularity / 100) ** 2) * float(rng.uniform(0.6, 1.4))
        counts = rng.poisson(rate, days.size)
        if p.burst:  # a burst of alerts in the last 7 days, growing towards the end
            last7 = np.arange(max(first, n_days - 7), n_days)
            weights = np.linspace(1.0, 3.0, last7.size)
            extra = rng.multinomial(int(rng.integers(12, 31)), weights / weights.sum())
            counts[last7 - first] += extra
        alert_days = np.repeat(days, counts)
        if alert_days.size == 0:
            continue
        seconds = rng.integers(7 * 3600, 23 * 3600, alert_days.size)
        when = (start + alert_days).astype("datetime64[s]") + seconds.astype("timedelta64[s]")
        release = np.datetime64(p.release_date, "D")
        preorder = (start + alert_days) < release
        drop_share = 0.55 if p.trend == "falling" else 0.3
        kind = np.where(preorder, "preorder", np.where(rng.random(alert_days.size) < drop_share, "price_drop", "restock"))
        pool = p.retailers or PRODUCT_RETAILERS
        who = np.array(pool)[rng.integers(0, len(pool), alert_days.size)]
        product_ids += [p.product_id] * alert_days.size
        retailers.append(who)
        types.append(kind)
        stamps.append(when)
    table = pa.table(
        {
            "product_id": pa.array(product_ids, pa.string()),
            "retailer": pa.array(np.concatenate(retailers).tolist(), pa.string()),
            "alert_type": pa.array(np.concatenate(types).tolist(), pa.string()),
            "alerted_at": pa.array(np.concatenate(stamps), pa.timestamp("s")),
        }
    )
    table = table.sort_by(
        [("alerted_at", "ascending"), ("product_id", "ascending"), ("retailer", "ascending"), ("alert_type", "ascending")]
    )
    ids = pa.array([f"AL-{i + 1:06d}" for i in range(table.num_rows)], pa.string())
    return pa.table(
        {"alert_id": ids, **{name: table[name] for name in ("product_id", "retailer", "alert_type", "alerted_at")}},
        schema=schemas.ALERTS,
    )


def build_products(config: SimulationConfig) -> dict[str, pa.Table]:
    """products, prices and alerts."""
    catalogue = _catalogue(config)
    products = pa.table(
        {
            "product_id": [p.product_id for p in catalogue],
            "product_name": [p.name for p in catalogue],
            "category": [p.category for p in catalogue],
            "msrp": [p.msrp for p in catalogue],
            "release_date": [p.release_date for p in catalogue],
            "popularity_score": [p.popularity for p in catalogue],
        },
        schema=schemas.PRODUCTS,
    )
    prices = _prices(config, catalogue)
    if config.drift is not None:  # `--drift`: a market-wide price move over the last days
        moved = pc.greater_equal(prices.column("observed_on"), pa.scalar(config.drift_start, pa.date32()))
        price = pc.if_else(
            moved, pc.round(pc.multiply(prices.column("price"), config.drift.price_level), 2), prices.column("price")
        )
        prices = prices.set_column(prices.schema.get_field_index("price"), "price", price)
    return {"products": products, "prices": prices, "alerts": _alerts(config, catalogue)}
