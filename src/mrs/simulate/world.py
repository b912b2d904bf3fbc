"""The physical world of the minority-report domain: calendar, stores, SKUs and normal demand.

Normal demand of store s, SKU k on day d is a Poisson-gamma (negative binomial) draw around

    mu[s, k, d] = base[s, k] * weekday_profile[category(k), store_type(s), dow(d)]
                  * exp(slope[s, k] * (d - last_day)) * promotion_lift[s, k, d]

`base` is the mean on an average weekday at the end of the period, so it also says how visible
an anomaly on that pair would be. Promotion lifts and anomaly effects are applied in `sales.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from mrs.simulate import schemas
from mrs.simulate.config import SimulationConfig
from mrs.simulate.random_streams import stream

RETAILERS = ("northmart", "coastco")
RETAILER_LABELS = {"northmart": "Northmart", "coastco": "Coastco"}
REGIONS = ("north", "south", "east", "west")
STORE_TYPES = ("hypermarket", "supermarket", "convenience")
CATEGORIES = ("beverages", "snacks", "dairy", "household", "personal_care", "frozen")

NORTHMART, COASTCO = 0, 1

_STORE_TYPE_P = (0.2, 0.5, 0.3)
_STORE_TYPE_SCALE = (1.8, 1.0, 0.5)
_STORE_TYPE_PRICE_INDEX = (0.97, 1.0, 1.1)
_RETAILER_PRICE_INDEX = (1.0, 0.98)
#: how much of the category's weekday swing each store type shows
_STORE_TYPE_WEEKDAY_SWING = (1.2, 1.0, 0.5)

#: Monday..Sunday relative volumes per category (normalised per world)
_CATEGORY_WEEKDAY = {
    "beverages": (0.85, 0.85, 0.9, 0.95, 1.1, 1.25, 1.1),
    "snacks": (0.85, 0.85, 0.9, 0.95, 1.15, 1.25, 1.05),
    "dairy": (1.0, 0.95, 0.95, 1.0, 1.05, 1.1, 0.95),
    "household": (0.9, 0.95, 0.95, 1.0, 1.0, 1.2, 1.0),
    "personal_care": (0.95, 0.95, 1.0, 1.0, 1.05, 1.1, 0.95),
    "frozen": (0.9, 0.9, 0.95, 1.0, 1.1, 1.2, 0.95),
}

#: (item, price low, price high) per category
_SKU_ITEMS: dict[str, tuple[tuple[str, float, float], ...]] = {
    "beverages": (
        ("Sparkling Water 1L", 0.6, 1.0),
        ("Cola 2L", 1.5, 2.4),
        ("Orange Juice 1L", 1.8, 2.9),
        ("Iced Tea 500ml", 1.0, 1.6),
        ("Energy Drink 250ml", 1.2, 1.9),
        ("Cold Brew Coffee 250ml", 1.9, 2.8),
        ("Lemonade 1.5L", 1.2, 1.9),
        ("Still Water 6x1.5L", 2.0, 3.2),
    ),
    "snacks": (
        ("Sea Salt Crisps 150g", 1.3, 2.0),
        ("Tortilla Chips 200g", 1.5, 2.2),
        ("Salted Peanuts 200g", 1.6, 2.4),
        ("Milk Chocolate Bar 100g", 0.9, 1.5),
        ("Oat Cookies 300g", 1.6, 2.5),
        ("Sweet Popcorn 90g", 1.0, 1.6),
        ("Granola Bars 6pk", 2.2, 3.4),
        ("Pretzels 175g", 1.2, 1.9),
    ),
    "dairy": (
        ("Whole Milk 2L", 1.4, 2.0),
        ("Greek Yogurt 500g", 2.0, 3.0),
        ("Mature Cheddar 400g", 3.2, 4.8),
        ("Salted Butter 250g", 2.0, 3.0),
        ("Fruit Yogurt 4pk", 1.6, 2.4),
        ("Semi-Skimmed Milk 1L", 0.9, 1.3),
        ("Cream Cheese 200g", 1.5, 2.3),
        ("Free-Range Eggs 12pk", 2.8, 3.9),
    ),
    "household": (
        ("Dish Soap 500ml", 1.2, 2.0),
        ("Kitchen Towels 4pk", 2.5, 3.8),
        ("Laundry Pods 30ct", 6.5, 9.5),
        ("Bin Bags 40ct", 2.5, 3.9),
        ("Sponges 5pk", 1.0, 1.8),
        ("Toilet Tissue 9pk", 4.0, 6.0),
        ("Surface Spray 750ml", 1.8, 2.9),
        ("Kitchen Foil 30m", 2.0, 3.0),
    ),
    "personal_care": (
        ("Sunscreen SPF50 200ml", 6.0, 9.5),
        ("Shampoo 400ml", 2.8, 4.5),
        ("Toothpaste 100ml", 1.5, 2.8),
        ("Deodorant 150ml", 2.2, 3.5),
        ("Hand Soap 300ml", 1.2, 2.0),
        ("Shower Gel 250ml", 1.5, 2.6),
        ("Razors 4pk", 4.5, 7.0),
        ("Lip Balm 4g", 1.5, 2.5),
    ),
    "frozen": (
        ("Vanilla Ice Cream 1L", 2.5, 3.8),
        ("Pepperoni Pizza 400g", 2.8, 4.2),
        ("Ice Lollies 8pk", 2.2, 3.4),
        ("Garden Peas 1kg", 1.4, 2.1),
        ("Fish Fingers 10pk", 2.4, 3.5),
        ("Ice Cubes 2kg", 1.2, 1.9),
        ("Oven Chips 1.5kg", 2.0, 3.0),
        ("Summer Berry Mix 500g", 2.6, 3.9),
    ),
}
_BRANDS = (
    "Brightwell",
    "Fresco",
    "Northfield",
    "Sunnyvale",
    "Kestrel",
    "Hollow Oak",
    "Bluebay",
    "Meadowgold",
    "Peakside",
    "Larkspur",
    "Tidewater",
    "Crestline",
    "Orchard Lane",
    "Silverleaf",
    "Greystone",
    "Riverbend",
)
_EAN_PREFIXES = ("50", "40", "87", "54", "76", "80", "84", "90")

_CITY_PREFIXES = (
    "Ash",
    "Brook",
    "Cedar",
    "Elm",
    "Fair",
    "Glen",
    "Harbor",
    "Kings",
    "Lake",
    "Maple",
    "Mill",
    "Oak",
    "Pine",
    "River",
    "Stone",
    "Thorn",
    "Wil",
    "Red",
    "Bright",
    "Green",
    "Hazel",
    "Iron",
    "Fox",
    "Wolf",
    "Marsh",
    "Clear",
    "Cold",
    "Silver",
    "Bram",
    "Ember",
)
_CITY_SUFFIXES = (
    "field",
    "ford",
    "ton",
    "ville",
    "wood",
    "port",
    "dale",
    "bridge",
    "mouth",
    "haven",
    "bury",
    "stead",
    "wick",
    "ley",
    "moor",
    "gate",
)
_STORE_NAME_SUFFIXES = (
    "Central",
    "Retail Park",
    "High Street",
    "Riverside",
    "Station Road",
    "Market Square",
    "Northgate",
    "Southgate",
    "Parkway",
    "Old Town",
    "Harbourside",
    "Mill Lane",
)


@dataclass(frozen=True)
class Calendar:
    """The simulated days, oldest first."""

    start: date
    n_days: int

    @property
    def days(self) -> np.ndarray:
        return np.datetime64(self.start, "D") + np.arange(self.n_days)

    @property
    def day_numbers(self) -> np.ndarray:
        """Days since 1970-01-01 (the date32 representation)."""
        return self.days.astype(np.int64).astype(np.int32)

    @property
    def dow(self) -> np.ndarray:
        """Day of week, Monday = 0."""
        return ((self.days.astype(np.int64) + 3) % 7).astype(np.int64)

    def index(self, day: date) -> int:
        return (day - self.start).days

    def date_at(self, index: int) -> date:
        return date.fromordinal(self.start.toordinal() + int(index))


@dataclass(frozen=True)
class Stores:
    store_id: list[str]
    retailer: np.ndarray  # index into RETAILERS
    ref: list[str]  # the id the retailer's feed uses
    ref_number: np.ndarray  # numeric part of ref (coastco's STORE_NBR)
    name: list[str]
    region: np.ndarray  # index into REGIONS
    store_type: np.ndarray  # index into STORE_TYPES
    city: list[str]

    def __len__(self) -> int:
        return len(self.store_id)

    def to_table(self) -> pa.Table:
        return pa.table(
            {
                "store_id": self.store_id,
                "retailer": [RETAILERS[r] for r in self.retailer],
                "retailer_store_ref": self.ref,
                "store_name": self.name,
                "region": [REGIONS[r] for r in self.region],
                "store_type": [STORE_TYPES[t] for t in self.store_type],
                "city": self.city,
            },
            schema=schemas.STORES,
        )


@dataclass(frozen=True)
class Skus:
    sku_id: list[str]
    ean: list[str]
    name: list[str]
    category: np.ndarray  # index into CATEGORIES
    unit_price: np.ndarray  # currency, 2 decimals

    def __len__(self) -> int:
        return len(self.sku_id)

    def to_table(self) -> pa.Table:
        return pa.table(
            {
                "sku_id": self.sku_id,
                "ean": self.ean,
                "sku_name": self.name,
                "category": [CATEGORIES[c] for c in self.category],
                "unit_price": self.unit_price,
            },
            schema=schemas.SKUS,
        )


@dataclass(frozen=True)
class Demand:
    """Parameters of the normal (anomaly-free) demand of every store x SKU pair."""

    base: np.ndarray  # (S, K) mean units/day on an average weekday at the end of the period
    gamma_shape: np.ndarray  # (S, K) Poisson-gamma shape; lower = lumpier
    slope: np.ndarray  # (S, K) log-trend per day
    price_cents: np.ndarray  # (S, K) shelf price in cents at that store
    weekday_profile: np.ndarray  # (categories, store types, 7), mean 1 over the week


@dataclass(frozen=True)
class World:
    config: SimulationConfig
    calendar: Calendar
    stores: Stores
    skus: Skus
    demand: Demand


def build_world(config: SimulationConfig) -> World:
    calendar = Calendar(config.start_date, config.n_days)
    stores = _build_stores(config)
    skus = _build_skus(config)
    demand = _build_demand(config, stores, skus)
    return World(config, calendar, stores, skus, demand)


def _id_width(n: int, minimum: int) -> int:
    return max(minimum, len(str(n)))


def _city_names(rng: np.random.Generator, n: int) -> list[str]:
    combos = [p + s for p in _CITY_PREFIXES for s in _CITY_SUFFIXES]
    picked = rng.choice(len(combos), size=min(n, len(combos)), replace=False)
    return [combos[i] for i in picked]


def _build_stores(config: SimulationConfig) -> Stores:
    rng = stream(config.seed, "stores")
    n = config.n_stores
    n_nm = int(np.clip(round(n * rng.uniform(0.45, 0.55)), 2, n - 2))
    retailer = rng.permutation(np.array([NORTHMART] * n_nm + [COASTCO] * (n - n_nm)))
    region = np.concatenate([rng.permutation(len(REGIONS)), rng.integers(0, len(REGIONS), n)])[:n]
    region = region[rng.permutation(n)]
    store_type = rng.choice(len(STORE_TYPES), size=n, p=_STORE_TYPE_P)

    # retailer refs increase with the canonical store order, so each feed sorts like the stores
    n_cc = n - n_nm
    nm_width = _id_width(n_nm, 3)
    nm_numbers = np.sort(rng.choice(np.arange(1, max(int(n_nm * 1.4), n_nm + 2) + 1), n_nm, replace=False))
    cc_width = 3 if n_cc <= 450 else (4 if n_cc <= 4500 else 6)
    cc_numbers = np.sort(rng.choice(np.arange(10 ** (cc_width - 1), 10**cc_width), n_cc, replace=False))
    ref_number = np.zeros(n, dtype=np.int64)
    ref_number[retailer == NORTHMART] = nm_numbers
    ref_number[retailer == COASTCO] = cc_numbers
    ref = [
        f"NM-{num:0{nm_width}d}" if r == NORTHMART else str(num)
        for r, num in zip(retailer.tolist(), ref_number.tolist(), strict=True)
    ]

    # cities: a pool per region, several stores per city
    per_region = [int(np.sum(region == r)) for r in range(len(REGIONS))]
    n_cities = [min(100, max(2, -(-c // 3))) for c in per_region]
    pool = _city_names(rng, sum(n_cities))
    city_pools, at = [], 0
    for c in n_cities:
        city_pools.append(pool[at : at + c] or pool[:1])
        at += c
    city = [city_pools[r][rng.integers(0, len(city_pools[r]))] for r in region.tolist()]

    names: list[str] = []
    seen: set[str] = set()
    for r, t, c in zip(retailer.tolist(), store_type.tolist(), city, strict=True):
        label = RETAILER_LABELS[RETAILERS[r]] + (" Express" if STORE_TYPES[t] == "convenience" else "")
        name = f"{label} {c}"
        if name in seen:
            for suffix in rng.permutation(_STORE_NAME_SUFFIXES):
                if f"{name} {suffix}" not in seen:
                    name = f"{name} {suffix}"
                    break
            else:
                k = 2
                while f"{name} {k}" in seen:
                    k += 1
                name = f"{name} {k}"
        seen.add(name)
        names.append(name)

    width = _id_width(n, 3)
    return Stores(
        store_id=[f"ST{i + 1:0{width}d}" for i in range(n)],
        retailer=retailer.astype(np.int64),
        ref=ref,
        ref_number=ref_number,
        name=names,
        region=region.astype(np.int64),
        store_type=store_type.astype(np.int64),
        city=city,
    )


def _ean13(rng: np.random.Generator, taken: set[str]) -> str:
    while True:
        body = _EAN_PREFIXES[rng.integers(0, len(_EAN_PREFIXES))] + "".join(str(d) for d in rng.integers(0, 10, 10))
        odd = sum(int(c) for c in body[0::2])
        even = sum(int(c) for c in body[1::2])
        code = body + str((10 - (odd + 3 * even) % 10) % 10)
        if code not in taken:
            taken.add(code)
            return code


def _build_skus(config: SimulationConfig) -> Skus:
    rng = stream(config.seed, "skus")
    n = config.n_skus
    n_cat = len(CATEGORIES)
    category = np.concatenate([rng.permutation(n_cat), rng.choice(n_cat, size=max(0, n - n_cat))])[:n]
    # each category walks through distinct (brand, item) pairs: all items first, then new brands
    brand_order = {c: rng.permutation(len(_BRANDS)) for c in range(n_cat)}
    item_order = {c: rng.permutation(len(_SKU_ITEMS[cat])) for c, cat in enumerate(CATEGORIES)}
    used = {c: 0 for c in range(n_cat)}
    names, prices, eans = [], [], []
    taken: set[str] = set()
    for c in category.tolist():
        cat = CATEGORIES[c]
        n_items, n_brands = len(item_order[c]), len(brand_order[c])
        j = used[c] % (n_items * n_brands)
        rounds = used[c] // (n_items * n_brands)
        used[c] += 1
        q, r = divmod(j, n_items)
        i = item_order[c][r]
        b = brand_order[c][(q * (n_items + 1) + r) % n_brands]
        item, lo, hi = _SKU_ITEMS[cat][i]
        names.append(f"{_BRANDS[b]} {item}" + (f" Multipack {rounds + 1}" if rounds else ""))
        prices.append(round(float(rng.uniform(lo, hi)) * (1 + 0.8 * rounds), 2))
        eans.append(_ean13(rng, taken))
    width = _id_width(n, 4)
    return Skus(
        sku_id=[f"SKU-{i + 1:0{width}d}" for i in range(n)],
        ean=eans,
        name=names,
        category=category.astype(np.int64),
        unit_price=np.round(np.array(prices, dtype=np.float64), 2),
    )


def _build_demand(config: SimulationConfig, stores: Stores, skus: Skus) -> Demand:
    rng = stream(config.seed, "demand")
    n_s, n_k = len(stores), len(skus)

    store_scale = np.array(_STORE_TYPE_SCALE)[stores.store_type] * np.exp(rng.normal(0, 0.2, n_s))
    # about a fifth of SKUs are slow movers (intermittent: mean below one unit a day)
    n_slow = max(1, round(n_k * rng.uniform(0.15, 0.25)))
    slow = np.zeros(n_k, dtype=bool)
    slow[rng.choice(n_k, n_slow, replace=False)] = True
    sku_rate = np.where(
        slow,
        rng.uniform(0.15, 0.6, n_k),
        np.clip(np.exp(rng.normal(np.log(8.0), 0.55, n_k)), 3.0, 35.0),
    )
    base = sku_rate[None, :] * store_scale[:, None] * np.exp(rng.normal(0, 0.15, (n_s, n_k)))
    gamma_shape = np.where(slow, rng.uniform(0.8, 2.0, n_k), rng.uniform(6.0, 20.0, n_k))
    gamma_shape = np.broadcast_to(gamma_shape[None, :], (n_s, n_k)).copy()

    store_trend = rng.normal(0.0, 0.12, n_s)
    sku_trend = rng.normal(0.03, 0.15, n_k)
    slope = (store_trend[:, None] + sku_trend[None, :] + rng.normal(0, 0.05, (n_s, n_k))) / 365.0

    price_index = np.array(_STORE_TYPE_PRICE_INDEX)[stores.store_type] * np.array(_RETAILER_PRICE_INDEX)[stores.retailer]
    price_cents = np.rint(skus.unit_price[None, :] * 100 * price_index[:, None]).astype(np.int64)

    raw = np.array([_CATEGORY_WEEKDAY[c] for c in CATEGORIES]) * np.exp(rng.normal(0, 0.04, (len(CATEGORIES), 7)))
    raw = raw / raw.mean(axis=1, keepdims=True)
    swing = np.array(_STORE_TYPE_WEEKDAY_SWING)
    profile = 1 + swing[None, :, None] * (raw[:, None, :] - 1)
    profile = profile / profile.mean(axis=2, keepdims=True)

    return Demand(base=base, gamma_shape=gamma_shape, slope=slope, price_cents=price_cents, weekday_profile=profile)
