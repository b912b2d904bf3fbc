"""Anomaly stories and their surroundings: master_narratives, narrative_targets, campaigns, context events.

Each narrative comes from a template (cluster, cause type, text) and targets a few store x SKU
pairs with a clearly visible base rate. Its cause is backed by a campaign or a context event that
overlaps its window in the targets' retailer/region/store. Unrelated campaigns run well before the
window and really lift sales (they are part of the normal process); unrelated context events have
no effect on sales, and those inside the window happen where no narrative has targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from mrs.simulate import schemas
from mrs.simulate.random_streams import stream
from mrs.simulate.world import CATEGORIES, REGIONS, RETAILER_LABELS, RETAILERS, World

#: a narrative targets only pairs selling at least this many units a day (by direction), so the
#: anomaly stands out from day-to-day noise; a drop needs more volume than a rise to be visible
MIN_TARGET_RATE = {"up": 4.0, "down": 6.0}

#: cluster name -> (shape, direction, magnitude range at the peak of the shape)
CLUSTERS: dict[str, tuple[str, str, tuple[float, float]]] = {
    "flash-demand spike": ("spike", "up", (2.5, 4.0)),
    "short-lived dip": ("dip", "down", (0.1, 0.3)),
    "sustained drop": ("level_shift", "down", (0.2, 0.4)),
    "step-up shift": ("level_shift", "up", (2.0, 3.0)),
    "building surge": ("ramp", "up", (2.8, 4.2)),
    "gradual fade": ("ramp", "down", (0.1, 0.25)),
}

#: which context event type backs each non-campaign cause type
CAUSE_EVENT_TYPE = {
    "weather": "weather",
    "local_event": "local_event",
    "holiday": "holiday",
    "supply_disruption": "supply_disruption",
    "competitor": "local_event",
}

_CATEGORY_WORDS = {
    "beverages": "drinks",
    "snacks": "snacks",
    "dairy": "dairy",
    "household": "household goods",
    "personal_care": "personal care",
    "frozen": "frozen food",
}
_STORMS = ("Agnes", "Bram", "Ciara", "Dudley", "Eunice", "Franklin", "Gerrit", "Henk", "Isha", "Jocelyn", "Kathleen", "Lilian")
_FESTIVALS = (
    "Summer Music Festival",
    "Food & Drink Festival",
    "Street Carnival",
    "Beach Volleyball Open",
    "Air Show",
    "County Show",
    "Jazz Weekend",
    "Derby Match Day",
    "Pride Parade",
)
_COMPETITORS = ("FreshCo", "ValuMart", "Budgetline", "Greenbasket", "QuickStop", "PriceRite", "Lidwell", "Aldana")
_SUPPLIERS = {
    "beverages": ("Pinecrest Beverages", "Clearwater Drinks Co."),
    "snacks": ("Summit Snacks", "Golden Crisp Foods"),
    "dairy": ("Harbor Dairies", "Green Meadow Dairy"),
    "household": ("Allied Home Goods", "Brightline Homecare"),
    "personal_care": ("Clearwave Personal Care", "Pure Essentials"),
    "frozen": ("Polar Frozen Foods", "Arctic Table"),
}
_CHANNELS = ("tv", "social", "in_store", "email")
_CHANNEL_LIFT = {"tv": 0.2, "social": 0.15, "in_store": 0.1, "email": 0.05}


@dataclass(frozen=True)
class Template:
    """A kind of anomaly story. `scope`: store (one store, a few SKUs), region (a few stores and
    SKUs of one region), group (one SKU in a retailer's stores of one region)."""

    cluster: str
    cause_type: str
    scope: str
    categories: tuple[str, ...] | None
    title: str
    cause: str
    confidence: tuple[float, float]
    backing: str  # campaign name or context event description
    channel: str | None = None


TEMPLATES: tuple[Template, ...] = (
    Template(
        "flash-demand spike",
        "campaign",
        "group",
        ("beverages", "snacks", "personal_care", "household"),
        "Social flash sale on {sku} ({retailer}, {region})",
        "{retailer} ran a {days} social-media flash sale on {sku} ({disc}% off) in its {region} stores; shoppers stocked up.",
        (0.82, 0.95),
        "{sku} {days} flash sale",
        "social",
    ),
    Template(
        "flash-demand spike",
        "local_event",
        "store",
        ("beverages", "snacks", "frozen"),
        "{festival} crowds at {store}",
        "The {city} {festival} drew large crowds next to {store}; {cats} sold far above normal.",
        (0.6, 0.8),
        "{city} {festival}",
    ),
    Template(
        "flash-demand spike",
        "weather",
        "region",
        ("beverages", "frozen", "personal_care"),
        "Hot-day spike in the {region}",
        "A short {temp}°C hot spell across the {region} sent shoppers out for {cats}.",
        (0.65, 0.85),
        "Hot spell: {temp}°C across the {region}",
    ),
    Template(
        "short-lived dip",
        "weather",
        "region",
        None,
        "Storm {storm} empties {region} stores",
        "Storm {storm} brought flooding and closed roads across the {region}; footfall collapsed while it passed.",
        (0.7, 0.88),
        "Storm {storm}: flooding and road closures in the {region}",
    ),
    Template(
        "short-lived dip",
        "local_event",
        "store",
        None,
        "Road closure outside {store}",
        "Emergency roadworks closed the access road and car park of {store} in {city}.",
        (0.55, 0.75),
        "Emergency roadworks close the access road to {store}",
    ),
    Template(
        "short-lived dip",
        "supply_disruption",
        "store",
        ("dairy", "frozen"),
        "Chiller failure at {store}",
        "A refrigeration failure at {store} took {cats} off the shelves until engineers fixed it.",
        (0.75, 0.9),
        "Refrigeration failure at {store}",
    ),
    Template(
        "sustained drop",
        "supply_disruption",
        "group",
        None,
        "{sku} supply shortfall ({retailer}, {region})",
        "{supplier} cut deliveries of {sku} to {retailer}'s {region} stores from {start}; shelves stayed half-empty.",
        (0.7, 0.9),
        "{supplier} delivery shortfall: {sku} at {retailer} stores in the {region}",
    ),
    Template(
        "sustained drop",
        "competitor",
        "store",
        None,
        "{competitor} opens next to {store}",
        "{competitor} opened a discount store beside {store} in {city} on {start}, taking a share of its {cats} shoppers.",
        (0.45, 0.7),
        "{competitor} opens a new store in {city}, next to {store}",
    ),
    Template(
        "step-up shift",
        "campaign",
        "group",
        None,
        "Price cut on {sku} ({retailer}, {region})",
        "{retailer} cut the shelf price of {sku} by {disc}% in the {region} from {start}; volume stepped up and stayed up.",
        (0.8, 0.93),
        "{sku} price lock",
        "in_store",
    ),
    Template(
        "step-up shift",
        "competitor",
        "store",
        None,
        "{competitor} closure lifts {store}",
        "{competitor} closed its {city} branch on {start}; its regular shoppers switched to {store} for {cats}.",
        (0.5, 0.72),
        "{competitor} closes its {city} store",
    ),
    Template(
        "building surge",
        "weather",
        "region",
        ("beverages", "frozen", "personal_care"),
        "Heatwave builds across the {region}",
        "A heatwave built through the week in the {region}, peaking at {temp}°C; demand for {cats} climbed day after day.",
        (0.7, 0.88),
        "Heatwave in the {region}, rising to {temp}°C",
    ),
    Template(
        "building surge",
        "campaign",
        "group",
        None,
        "TV campaign for {sku} in the {region}",
        "{retailer}'s regional TV campaign for {sku} ({disc}% off) started on {start}; "
        "sales built as the ads reached more viewers.",
        (0.8, 0.92),
        "{sku} summer TV push",
        "tv",
    ),
    Template(
        "building surge",
        "holiday",
        "region",
        ("snacks", "dairy", "beverages", "household"),
        "Back-to-school run-up in the {region}",
        "Schools in the {region} reopen soon; lunchbox and household shopping built up through the week.",
        (0.6, 0.8),
        "Back-to-school week in the {region}",
    ),
    Template(
        "gradual fade",
        "supply_disruption",
        "group",
        None,
        "{supplier} rations {sku}",
        "{supplier} rationed {sku} from {start}; {retailer}'s {region} stores ran progressively short through the week.",
        (0.7, 0.88),
        "{supplier} allocation cut: {sku} at {retailer} stores in the {region}",
    ),
    Template(
        "gradual fade",
        "competitor",
        "store",
        None,
        "{competitor} price war near {store}",
        "{competitor} undercut prices on {cats} near {store} in {city}; sales drained away through the week.",
        (0.45, 0.65),
        "{competitor} price-match campaign in {city}",
    ),
)

_UNRELATED_EVENTS: dict[str, tuple[str, ...]] = {
    "holiday": (
        "National public holiday",
        "Regional public holiday in the {region}",
        "School half-term in the {region}",
        "Summer school holidays begin in the {region}",
    ),
    "weather": (
        "Heavy showers in the {region}",
        "Strong winds across the {region}",
        "Cool, overcast spell in the {region}",
        "Mild warm spell in the {region}",
    ),
    "local_event": (
        "{city} farmers' market",
        "{city} charity fun run",
        "Roadworks on the {city} ring road",
        "{city} summer fair",
    ),
    "supply_disruption": (
        "Courier strike delays non-food deliveries in the {region}",
        "Late delivery of {category} at {store}, restocked the same day",
    ),
}
_PROMO_NAMES = (
    "{season} {category} deals",
    "{retailer} {category} multibuy",
    "{season} savings: {category}",
    "Weekend offers on {category}",
    "{sku} half-price week",
    "{retailer} loyalty points on {category}",
)


@dataclass(frozen=True)
class Promotion:
    """A campaign's real effect: units x lift and price x (1 - discount) on the pairs and days it covers."""

    retailer: int
    region: int | None
    category: int | None
    sku: int | None
    start: int  # day index, inclusive, clipped to the calendar
    end: int
    lift: float
    discount: float

    def store_mask(self, retailer: np.ndarray, region: np.ndarray) -> np.ndarray:
        mask = retailer == self.retailer
        return mask if self.region is None else mask & (region == self.region)

    def sku_mask(self, category: np.ndarray) -> np.ndarray:
        mask = np.ones(len(category), dtype=bool)
        if self.category is not None:
            mask &= category == self.category
        if self.sku is not None:
            mask &= np.arange(len(category)) == self.sku
        return mask


@dataclass(frozen=True)
class NarrativeEffect:
    """An anomaly: its target pairs' expected units are multiplied by `multiplier` (1 outside the window)."""

    stores: np.ndarray
    skus: np.ndarray
    multiplier: np.ndarray  # (n_days,)
    discount: float  # price cut on the targets on the days the multiplier differs from 1


@dataclass(frozen=True)
class Scenario:
    tables: dict[str, pa.Table]
    promotions: list[Promotion]
    effects: list[NarrativeEffect]


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _pretty_date(day: date) -> str:
    """'Thursday 7 August' without depending on the process locale."""
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"


def _join(words: list[str]) -> str:
    words = list(dict.fromkeys(words))
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


class _Builder:
    def __init__(self, world: World) -> None:
        self.world = world
        cfg = world.config
        self.rng = stream(cfg.seed, "narratives")
        self.cal = world.calendar
        self.ws = self.cal.index(cfg.window_start)
        self.we = self.cal.index(cfg.window_end)
        n_s, n_k = len(world.stores), len(world.skus)
        self.taken = np.zeros((n_s, n_k), dtype=bool)
        self.narratives: list[dict] = []
        self.targets: list[tuple[int, int, int]] = []  # (narrative index, store, sku)
        self.campaigns: list[dict] = []
        self.events: list[dict] = []
        self.effects: list[NarrativeEffect] = []
        self.promotions: list[Promotion] = []

    # ---- target selection -------------------------------------------------------------------
    def _eligible(self, categories: tuple[str, ...] | None, direction: str) -> np.ndarray:
        ok = (self.world.demand.base >= MIN_TARGET_RATE[direction]) & ~self.taken
        if categories is not None:
            cats = [CATEGORIES.index(c) for c in categories]
            ok &= np.isin(self.world.skus.category, cats)[None, :]
        return ok

    def _pick_store(self, ok: np.ndarray) -> list[tuple[int, int]] | None:
        counts = ok.sum(axis=1)
        cands = np.flatnonzero(counts >= 2)
        if cands.size == 0:
            return None
        s = int(self.rng.choice(cands))
        ks = np.flatnonzero(ok[s])
        n = min(ks.size, int(self.rng.integers(2, 5)))
        return [(s, int(k)) for k in np.sort(self.rng.choice(ks, n, replace=False))]

    def _pick_region(self, ok: np.ndarray) -> list[tuple[int, int]] | None:
        region = self.world.stores.region
        totals = np.array([ok[region == r].sum() for r in range(len(REGIONS))])
        cands = np.flatnonzero(totals >= 2)
        if cands.size == 0:
            return None
        r = int(self.rng.choice(cands))
        in_region = np.flatnonzero(region == r)
        per_sku = ok[in_region].sum(axis=0)
        skus = np.flatnonzero(per_sku > 0)
        n_sku = min(skus.size, int(self.rng.integers(1, 3)))
        chosen = self.rng.choice(skus, n_sku, replace=False, p=per_sku[skus] / per_sku[skus].sum())
        pairs: list[tuple[int, int]] = []
        for k in np.sort(chosen):
            stores = in_region[ok[in_region, k]]
            n = min(stores.size, int(self.rng.integers(2, 4)))
            pairs += [(int(s), int(k)) for s in np.sort(self.rng.choice(stores, n, replace=False))]
        pairs = pairs[:6]
        return pairs if len(pairs) >= 2 else None

    def _pick_group(self, ok: np.ndarray) -> tuple[list[tuple[int, int]], int, int, int] | None:
        """One SKU in one retailer's stores of one region; prefer groups where every store qualifies."""
        st = self.world.stores
        groups = []
        for ret in range(len(RETAILERS)):
            for reg in range(len(REGIONS)):
                scope = np.flatnonzero((st.retailer == ret) & (st.region == reg))
                if scope.size == 0:
                    continue
                n_ok = ok[scope].sum(axis=0)
                for sku in np.flatnonzero(n_ok > 0):
                    groups.append((ret, reg, int(sku), int(n_ok[sku]), bool(n_ok[sku] == scope.size)))
        if not groups:
            return None
        best = [g for g in groups if g[4] and 2 <= g[3] <= 6] or [g for g in groups if g[4]] or groups
        ret, reg, k, _, _ = best[int(self.rng.integers(0, len(best)))]
        scope = np.flatnonzero((st.retailer == ret) & (st.region == reg) & ok[:, k])
        n = min(scope.size, 6)
        stores = np.sort(self.rng.choice(scope, n, replace=False))
        return [(int(s), k) for s in stores], ret, reg, k

    # ---- one narrative ----------------------------------------------------------------------
    def _window(self, shape: str) -> tuple[int, int, np.ndarray]:
        """Window (day indices) and the per-day effect profile in [0, 1] (1 = full magnitude)."""
        width = self.we - self.ws + 1
        rng = self.rng
        if shape in ("spike", "dip"):
            length = min(width, int(rng.integers(1, 4)))
            start = self.ws + int(rng.integers(0, width - length + 1))
            profile = np.full(length, 0.75)
            profile[int(rng.integers(0, length))] = 1.0
        elif shape == "level_shift":
            start = self.ws + int(rng.integers(0, max(1, width - 2)))
            length = self.we - start + 1
            profile = np.ones(length)
        else:  # ramp
            length = min(width, int(rng.integers(4, 7)))
            start = self.we - length + 1
            profile = 0.4 + 0.6 * np.arange(length) / (length - 1)
        return start, start + length - 1, profile

    def add(self, template: Template) -> bool:
        ok = self._eligible(template.categories, CLUSTERS[template.cluster][1])
        group: tuple[int, int, int] | None = None
        if template.scope == "store":
            pairs = self._pick_store(ok)
        elif template.scope == "region":
            pairs = self._pick_region(ok)
        else:
            picked = self._pick_group(ok)
            pairs, group = (picked[0], picked[1:]) if picked else (None, None)
        if not pairs:
            return False

        rng, world, cal = self.rng, self.world, self.cal
        st, sk = world.stores, world.skus
        shape, direction, (lo, hi) = CLUSTERS[template.cluster]
        magnitude = round(float(rng.uniform(lo, hi)), 2)
        start, end, profile = self._window(shape)
        multiplier = np.ones(cal.n_days)
        multiplier[start : end + 1] = 1 + (magnitude - 1) * profile
        disc = round(float(rng.uniform(0.15, 0.35)), 2) if template.cause_type == "campaign" else 0.0

        s0, k0 = pairs[0]
        sku_idx = sorted({k for _, k in pairs})
        start_day, end_day = cal.date_at(start), cal.date_at(end)
        days_word = {1: "one-day", 2: "two-day", 3: "three-day"}.get(end - start + 1, f"{end - start + 1}-day")
        fields = {
            "retailer": RETAILER_LABELS[RETAILERS[st.retailer[s0]]],
            "region": REGIONS[st.region[s0]],
            "store": st.name[s0],
            "city": st.city[s0],
            "sku": sk.name[k0],
            "cats": _join([_CATEGORY_WORDS[CATEGORIES[sk.category[k]]] for k in sku_idx]),
            "disc": int(round(disc * 100)),
            "days": days_word,
            "start": _pretty_date(start_day),
            "festival": _FESTIVALS[rng.integers(0, len(_FESTIVALS))],
            "storm": _STORMS[rng.integers(0, len(_STORMS))],
            "competitor": _COMPETITORS[rng.integers(0, len(_COMPETITORS))],
            "supplier": _SUPPLIERS[CATEGORIES[sk.category[k0]]][int(rng.integers(0, 2))],
            "temp": int(rng.integers(31, 37)),
        }
        i = len(self.narratives)
        self.narratives.append(
            {
                "title": template.title.format(**fields),
                "window_start": start_day,
                "window_end": end_day,
                "shape": shape,
                "direction": direction,
                "magnitude": magnitude,
                "cluster_name": template.cluster,
                "cause_type": template.cause_type,
                "cause": template.cause.format(**fields),
                "confidence": round(float(rng.uniform(*template.confidence)), 2),
                "_first_store": st.store_id[s0],
            }
        )
        for s, k in pairs:
            self.taken[s, k] = True
            self.targets.append((i, s, k))
        self.effects.append(
            NarrativeEffect(
                stores=np.array([s for s, _ in pairs]),
                skus=np.array([k for _, k in pairs]),
                multiplier=multiplier,
                discount=disc,
            )
        )

        # what backs the cause: a campaign or a context event overlapping the window
        lasting = shape in ("level_shift", "ramp")
        backing_end = end_day + timedelta(days=int(rng.integers(7, 29)) if lasting else 0)
        if template.cause_type == "campaign":
            assert group is not None, "a campaign template has scope 'group'"
            ret, reg, k = group
            self.campaigns.append(
                {
                    "campaign_name": template.backing.format(**fields),
                    "retailer": RETAILERS[ret],
                    "region": REGIONS[reg],
                    "category": CATEGORIES[sk.category[k]],
                    "sku_id": sk.sku_id[k],
                    "channel": template.channel,
                    "start_date": start_day,
                    "end_date": backing_end,
                    "discount_pct": disc,
                }
            )
        else:
            local = template.scope == "store"
            self.events.append(
                {
                    "event_type": CAUSE_EVENT_TYPE[template.cause_type],
                    "description": template.backing.format(**fields),
                    "region": REGIONS[st.region[s0]],
                    "store_id": st.store_id[s0] if local else None,
                    "start_date": start_day,
                    "end_date": backing_end + timedelta(days=int(rng.integers(0, 2))) if not lasting else backing_end,
                    "severity": round(float(rng.uniform(0.55, 0.95)), 2),
                }
            )
        return True

    # ---- unrelated campaigns and events -----------------------------------------------------
    def add_promotions(self) -> None:
        """Campaigns well before the window (they end before its 4-week baseline) that really lift sales."""
        rng, cal, world = stream(self.world.config.seed, "campaigns"), self.cal, self.world
        zone_end = self.ws - 29
        if zone_end < 10:
            zone_end = self.ws - 8
        n = int(rng.integers(4, 8)) + len(world.stores) // 250
        for _ in range(n):
            length = min(int(rng.integers(5, 15)), zone_end)
            start = int(rng.integers(0, zone_end - length + 2))
            end = start + length - 1
            ret = int(rng.integers(0, len(RETAILERS)))
            regions = np.unique(world.stores.region[world.stores.retailer == ret])  # where it has stores
            reg = None if rng.random() < 0.4 else int(rng.choice(regions))
            cat = None if rng.random() < 0.15 else int(rng.integers(0, len(CATEGORIES)))
            sku = None
            if cat is not None and rng.random() < 0.4:
                in_cat = np.flatnonzero(world.skus.category == cat)
                if in_cat.size:
                    sku = int(rng.choice(in_cat))
            channel = _CHANNELS[int(rng.integers(0, len(_CHANNELS)))]
            disc = round(float(rng.uniform(0.1, 0.3)), 2)
            lift = 1.0 + disc * float(rng.uniform(1.8, 3.0)) + _CHANNEL_LIFT[channel]
            start_day = cal.date_at(start)
            season = {5: "Spring", 6: "Early summer", 7: "Summer", 8: "Summer"}.get(start_day.month, "Seasonal")
            names = [p for p in _PROMO_NAMES if sku is not None or "{sku}" not in p]
            if cat is None:
                names = [p for p in names if "{sku}" not in p]
            name = names[int(rng.integers(0, len(names)))].format(
                season=season,
                retailer=RETAILER_LABELS[RETAILERS[ret]],
                category=_CATEGORY_WORDS[CATEGORIES[cat]] if cat is not None else "everything",
                sku=world.skus.name[sku] if sku is not None else "",
            )
            self.campaigns.append(
                {
                    "campaign_name": name[0].upper() + name[1:],
                    "retailer": RETAILERS[ret],
                    "region": REGIONS[reg] if reg is not None else None,
                    "category": CATEGORIES[cat] if cat is not None else None,
                    "sku_id": world.skus.sku_id[sku] if sku is not None else None,
                    "channel": channel,
                    "start_date": start_day,
                    "end_date": cal.date_at(end),
                    "discount_pct": disc,
                }
            )
            self.promotions.append(Promotion(ret, reg, cat, sku, start, end, round(lift, 4), disc))

    def add_unrelated_events(self) -> None:
        """Context events with no effect: earlier ones anywhere, in-window ones away from every target."""
        rng, cal, world = stream(self.world.config.seed, "events"), self.cal, self.world
        st, sk = world.stores, world.skus
        target_stores = {s for _, s, _ in self.targets}
        target_cities = {st.city[s] for s in target_stores}
        free_stores = [s for s in range(len(st)) if st.city[s] not in target_cities] or [
            s for s in range(len(st)) if s not in target_stores
        ]
        free_regions = [r for r in range(len(REGIONS)) if not any(st.region[s] == r for s in target_stores)]
        n = int(rng.integers(4, 8))
        for j in range(n):
            in_window = j % 2 == 1
            etype = list(_UNRELATED_EVENTS)[int(rng.integers(0, len(_UNRELATED_EVENTS)))]
            text = _UNRELATED_EVENTS[etype][int(rng.integers(0, len(_UNRELATED_EVENTS[etype])))]
            if in_window and text.startswith("National"):  # in the window, only away from the targets
                text = _UNRELATED_EVENTS[etype][1]
            store_level = "{store}" in text or "{city}" in text
            if in_window:
                if store_level or not free_regions:
                    if not free_stores:
                        continue
                    if not store_level:  # no free region: fall back to a store-local event
                        etype = "local_event"
                        text = _UNRELATED_EVENTS[etype][int(rng.integers(0, len(_UNRELATED_EVENTS[etype])))]
                        store_level = True
                    s = int(rng.choice(free_stores))
                    reg = int(st.region[s])
                else:
                    reg = int(rng.choice(free_regions))
                    s = None
                start = self.ws + int(rng.integers(0, self.we - self.ws + 1))
                severity = round(float(rng.uniform(0.05, 0.3)), 2)
            else:
                s = int(rng.integers(0, len(st))) if store_level else None
                reg = int(st.region[s]) if s is not None else int(rng.integers(0, len(REGIONS)))
                start = int(rng.integers(0, self.ws - 3))
                severity = round(float(rng.uniform(0.1, 0.5)), 2)
            end = min(start + int(rng.integers(0, 3)), self.we if in_window else self.ws - 1)
            k = int(rng.integers(0, len(sk)))
            national = text.startswith("National")
            self.events.append(
                {
                    "event_type": etype,
                    "description": text.format(
                        region=REGIONS[reg],
                        city=st.city[s] if s is not None else "",
                        store=st.name[s] if s is not None else "",
                        category=_CATEGORY_WORDS[CATEGORIES[sk.category[k]]],
                    ),
                    "region": None if national else REGIONS[reg],
                    "store_id": st.store_id[s] if s is not None else None,
                    "start_date": cal.date_at(start),
                    "end_date": cal.date_at(end),
                    "severity": severity,
                }
            )

    # ---- tables -----------------------------------------------------------------------------
    def tables(self) -> dict[str, pa.Table]:
        st, sk = self.world.stores, self.world.skus
        order = sorted(
            range(len(self.narratives)),
            key=lambda i: (
                self.narratives[i]["window_start"],
                self.narratives[i]["cluster_name"],
                self.narratives[i]["_first_store"],
            ),
        )
        nid = {i: f"MR-{rank + 1:03d}" for rank, i in enumerate(order)}
        narr_rows = [
            {"narrative_id": nid[i], **{k: v for k, v in self.narratives[i].items() if not k.startswith("_")}} for i in order
        ]
        target_rows = sorted((nid[i], st.store_id[s], sk.sku_id[k]) for i, s, k in self.targets)

        def keyed(rows: list[dict], prefix: str, id_col: str, key) -> list[dict]:
            rows = sorted(rows, key=key)
            return [{id_col: f"{prefix}-{n + 1:03d}", **r} for n, r in enumerate(rows)]

        campaigns = keyed(
            self.campaigns,
            "CMP",
            "campaign_id",
            lambda r: (r["start_date"], r["retailer"], r["campaign_name"], r["end_date"]),
        )
        events = keyed(
            self.events,
            "EVT",
            "event_id",
            lambda r: (r["start_date"], r["event_type"], r["description"], r["end_date"]),
        )
        return {
            "master_narratives": pa.Table.from_pylist(narr_rows, schema=schemas.MASTER_NARRATIVES),
            "narrative_targets": pa.table(
                {
                    "narrative_id": [t[0] for t in target_rows],
                    "store_id": [t[1] for t in target_rows],
                    "sku_id": [t[2] for t in target_rows],
                },
                schema=schemas.NARRATIVE_TARGETS,
            ),
            "campaigns": pa.Table.from_pylist(campaigns, schema=schemas.CAMPAIGNS),
            "context_events": pa.Table.from_pylist(events, schema=schemas.CONTEXT_EVENTS),
        }


def build_scenario(world: World) -> Scenario:
    """Narratives with their targets, backing campaigns/events, and unrelated campaigns/events."""
    b = _Builder(world)
    rng = b.rng
    n_narratives = int(rng.integers(5, 9))
    cluster_names = list(CLUSTERS)
    n_clusters = int(rng.integers(3, min(5, n_narratives - 1) + 1))
    while True:  # a varied world: at least three shapes, and anomalies both up and down
        chosen = [cluster_names[i] for i in rng.choice(len(cluster_names), n_clusters, replace=False)]
        shapes = {CLUSTERS[c][0] for c in chosen}
        directions = {CLUSTERS[c][1] for c in chosen}
        if len(shapes) >= 3 and len(directions) == 2:
            break
    # every chosen cluster gets one narrative; the rest share clusters
    slots = chosen + [chosen[i] for i in rng.integers(0, n_clusters, n_narratives - n_clusters)]
    used: set[int] = set()
    for cluster in slots:
        candidates = [i for i, t in enumerate(TEMPLATES) if t.cluster == cluster]
        fresh = [i for i in candidates if i not in used]
        for i in list(rng.permutation(fresh)) + list(rng.permutation(candidates)):
            if b.add(TEMPLATES[int(i)]):
                used.add(int(i))
                break
    for _ in range(20):  # small worlds: top up from the chosen clusters if a template found no pairs
        if len(b.narratives) >= min(5, n_narratives):
            break
        cluster = chosen[int(rng.integers(0, n_clusters))]
        candidates = [i for i, t in enumerate(TEMPLATES) if t.cluster == cluster]
        b.add(TEMPLATES[int(rng.choice(candidates))])
    if not b.narratives:
        raise ValueError("world too small: no store x SKU pair sells enough to carry a narrative")
    b.add_promotions()
    b.add_unrelated_events()
    return Scenario(tables=b.tables(), promotions=b.promotions, effects=b.effects)
