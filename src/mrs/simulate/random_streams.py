"""Named, independent random streams derived from the world's seed.

Each table (and each store of the sales feeds) draws from its own stream, so adding a table or
changing one table's draws never shifts another's. Stream ids are fixed numbers, never hash().
"""

from __future__ import annotations

import numpy as np

STREAM_IDS: dict[str, int] = {
    "stores": 1,
    "skus": 2,
    "demand": 3,
    "narratives": 4,
    "campaigns": 5,
    "events": 6,
    "sales": 7,
    "narrative_sales": 8,
    "products": 9,
    "prices": 10,
    "alerts": 11,
    "drift_sales": 12,
}


def stream(seed: int, name: str, *index: int) -> np.random.Generator:
    """A generator for stream `name` (optionally sub-indexed, e.g. by store) of world `seed`."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STREAM_IDS[name], *index)))
