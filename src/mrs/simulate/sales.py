"""Daily sales of every store x SKU, written as the two retailers' feeds, a chunk of stores at a time.

Each store draws its normal demand from its own random stream, so a store's sales do not depend
on the chunk size or on other stores. A narrative target's window days are then redrawn from a
separate stream with the narrative's multiplier, so every non-target cell is exactly what the
normal process gives, with or without narratives.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from mrs.simulate import schemas
from mrs.simulate.narratives import Scenario
from mrs.simulate.random_streams import stream
from mrs.simulate.world import COASTCO, NORTHMART, World


@dataclass(frozen=True)
class SalesChunk:
    first_store: int
    n_stores: int
    northmart: pa.Table
    coastco: pa.Table


def expected_units(world: World, scenario: Scenario, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """Normal expected units (stores lo..hi-1, all SKUs, all days) and the price factor of promotions."""
    d, st, cal = world.demand, world.stores, world.calendar
    idx = np.arange(lo, hi)
    n_days = cal.n_days
    t = np.arange(n_days) - (n_days - 1)
    profile = d.weekday_profile[world.skus.category[None, :, None], st.store_type[idx][:, None, None], cal.dow[None, None, :]]
    mu = d.base[idx][:, :, None] * profile * np.exp(d.slope[idx][:, :, None] * t[None, None, :])
    price_factor = np.ones_like(mu)
    category = world.skus.category
    for p in scenario.promotions:
        s_sel = np.flatnonzero(p.store_mask(st.retailer[idx], st.region[idx]))
        k_sel = np.flatnonzero(p.sku_mask(category))
        if s_sel.size == 0 or k_sel.size == 0:
            continue
        cells = np.ix_(s_sel, k_sel, np.arange(p.start, p.end + 1))
        mu[cells] *= p.lift
        price_factor[cells] = np.minimum(price_factor[cells], 1 - p.discount)
    return mu, price_factor


def simulate_units(world: World, scenario: Scenario, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """Units sold and revenue in cents, shape (stores lo..hi-1, SKUs, days)."""
    seed = world.config.seed
    shape = world.demand.gamma_shape
    mu, price_factor = expected_units(world, scenario, lo, hi)
    n_k, n_d = mu.shape[1], mu.shape[2]
    units = np.empty(mu.shape, dtype=np.int64)
    for i, s in enumerate(range(lo, hi)):
        rng = stream(seed, "sales", s)
        k = np.broadcast_to(shape[s][:, None], (n_k, n_d))
        units[i] = rng.poisson(mu[i] * rng.standard_gamma(k) / k)
    drift = world.config.drift
    if drift is not None:
        # `--drift`: the last days get a new level and weekly pattern, redrawn from their own streams
        # so every day before the drift is exactly the base world's; narratives build on the new demand
        days = np.arange(n_d - drift.days, n_d)
        factor = drift.sales_level * np.asarray(drift.weekday_factors)[world.calendar.dow[days]]
        for i, s in enumerate(range(lo, hi)):
            rng = stream(seed, "drift_sales", s)
            k = np.broadcast_to(shape[s][:, None], (n_k, days.size))
            units[i][:, days] = rng.poisson(mu[i][:, days] * factor * rng.standard_gamma(k) / k)
        mu[:, :, days] *= factor
    for effect in scenario.effects:
        days = np.flatnonzero(effect.multiplier != 1.0)
        for s, k in zip(effect.stores.tolist(), effect.skus.tolist(), strict=True):
            if not lo <= s < hi:
                continue
            rng = stream(seed, "narrative_sales", s, k)
            g = shape[s, k]
            lam = mu[s - lo, k, days] * effect.multiplier[days] * rng.standard_gamma(g, days.size) / g
            units[s - lo, k, days] = rng.poisson(lam)
            if effect.discount:
                price_factor[s - lo, k, days] *= 1 - effect.discount
    cents = np.rint(units * world.demand.price_cents[lo:hi, :, None] * price_factor).astype(np.int64)
    return units, cents


class _FeedEncoder:
    """Turns unit/cent cubes into the two feeds' Arrow tables, vectorised (no loop per row)."""

    def __init__(self, world: World) -> None:
        st, sk, cal = world.stores, world.skus, world.calendar
        self.world = world
        self.sku_ids = pa.array(sk.sku_id, pa.string())
        self.ean_order = np.array(sorted(range(len(sk)), key=lambda k: sk.ean[k]))
        self.eans_sorted = pa.array([sk.ean[k] for k in self.ean_order], pa.string())
        self.dates = cal.day_numbers
        self.txn_dates = pa.array([str(d).replace("-", "") for d in cal.days], pa.string())
        self.refs = st.ref
        self.ref_number = st.ref_number

    def northmart(self, lo: int, stores: np.ndarray, units: np.ndarray, cents: np.ndarray) -> pa.Table:
        u = units[stores]
        nz = np.flatnonzero(u)
        si, ki, di = np.unravel_index(nz, u.shape)
        refs = pa.array([self.refs[lo + s] for s in stores.tolist()], pa.string())
        return pa.table(
            {
                "store_id": refs.take(pa.array(si)),
                "sku_id": self.sku_ids.take(pa.array(ki)),
                "date": pa.array(self.dates[di], pa.date32()),
                "units": u.reshape(-1)[nz],
                "net_sales": np.round(cents[stores].reshape(-1)[nz] / 100.0, 2),
            },
            schema=schemas.SALES_NORTHMART,
        )

    def coastco(self, lo: int, stores: np.ndarray, units: np.ndarray, cents: np.ndarray) -> pa.Table:
        u = units[stores][:, self.ean_order, :]
        c = cents[stores][:, self.ean_order, :]
        nz = np.flatnonzero(u)
        si, ki, di = np.unravel_index(nz, u.shape)
        return pa.table(
            {
                "STORE_NBR": self.ref_number[lo + stores][si],
                "EAN": self.eans_sorted.take(pa.array(ki)),
                "TXN_DATE": self.txn_dates.take(pa.array(di)),
                "QTY": u.reshape(-1)[nz],
                "SALES_CENTS": c.reshape(-1)[nz],
            },
            schema=schemas.SALES_COASTCO,
        )


def iter_sales_chunks(world: World, scenario: Scenario, chunk_stores: int | None = None) -> Iterator[SalesChunk]:
    """The feeds, a chunk of stores at a time, in key order (canonical store order = feed id order)."""
    n = len(world.stores)
    size = chunk_stores or world.config.chunk_stores
    encoder = _FeedEncoder(world)
    for lo in range(0, n, size):
        hi = min(n, lo + size)
        units, cents = simulate_units(world, scenario, lo, hi)
        retailer = world.stores.retailer[lo:hi]
        yield SalesChunk(
            first_store=lo,
            n_stores=hi - lo,
            northmart=encoder.northmart(lo, np.flatnonzero(retailer == NORTHMART), units, cents),
            coastco=encoder.coastco(lo, np.flatnonzero(retailer == COASTCO), units, cents),
        )
