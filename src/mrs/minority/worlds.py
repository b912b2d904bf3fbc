"""Labelled simulated worlds for training and evaluating the learned minority-report stages.

A :class:`LabelledWorld` is what the v1 stages see at scoring time (the active baseline's
actual and expected units per store × SKU × day, the store and SKU masters, campaigns and
context events) plus what they never see at scoring time: the narratives and their target
pairs, used only as labels. The baseline is the package's version-0 baseline, computed with the
same SQL the ``baseline_log`` model runs (``mrs.minority.baseline``), over the simulator's
zero-filled daily units, so a world is built in seconds without a dbt build.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from mrs.minority.baseline import baseline_config, baseline_inputs, predict_batch
from mrs.minority.config import AnomalyWindow, BaselineScoring
from mrs.simulate.config import SimulationConfig
from mrs.simulate.narratives import Scenario, build_scenario
from mrs.simulate.sales import simulate_units
from mrs.simulate.world import CATEGORIES, REGIONS, RETAILERS, World, build_world


@dataclass(frozen=True)
class LabelledWorld:
    """One simulated world as the v1 stages read it, with the narratives kept apart as labels."""

    seed: int
    baseline: pa.Table  # store_id, sku_id, sales_date, actual_units, expected_units (scored days)
    stores: pa.Table  # store_id, retailer, region
    skus: pa.Table  # sku_id, category
    campaigns: pa.Table
    context_events: pa.Table
    narratives: pa.Table  # labels only
    narrative_targets: pa.Table  # labels only
    daily_units: np.ndarray  # (stores * SKUs, every simulated day): the peer's history

    @property
    def n_pairs(self) -> int:
        return self.stores.num_rows * self.skus.num_rows


def _sales_table(config: SimulationConfig) -> tuple[pa.Table, World, Scenario, np.ndarray]:
    world = build_world(config)
    scenario = build_scenario(world)
    units, _ = simulate_units(world, scenario, 0, len(world.stores))
    n_s, n_k, n_d = units.shape
    days = np.array(world.calendar.days, dtype="datetime64[D]")
    s_idx, k_idx, d_idx = np.meshgrid(np.arange(n_s), np.arange(n_k), np.arange(n_d), indexing="ij")
    store_ids = np.array(world.stores.store_id, dtype=object)
    sku_ids = np.array(world.skus.sku_id, dtype=object)
    sales = pa.table(
        {
            "store_id": pa.array(store_ids[s_idx.ravel()], pa.string()),
            "sku_id": pa.array(sku_ids[k_idx.ravel()], pa.string()),
            "sales_date": pa.array(days[d_idx.ravel()], pa.date32()),
            "units_sold": pa.array(units.ravel(), pa.int64()),
        }
    )
    return sales, world, scenario, units.reshape(n_s * n_k, n_d)


def labelled_world(
    seed: int,
    n_stores: int = 20,
    n_skus: int = 15,
    *,
    scoring_days: int = 35,
    baseline_version: str = "0",
) -> LabelledWorld:
    """Simulate world ``seed`` and score its version-0 baseline over the last ``scoring_days`` days."""
    config = SimulationConfig(seed=seed, n_stores=n_stores, n_skus=n_skus)
    sales, world, scenario, units = _sales_table(config)
    scoring = BaselineScoring(window=AnomalyWindow(config.window_start, config.window_end), scoring_periods=scoring_days)
    con = duckdb.connect()
    try:
        con.register("sales_arrow", sales)
        inputs = baseline_inputs(con, con.table("sales_arrow"), baseline_config(baseline_version), scoring)
        scored = predict_batch(inputs.order("store_id, sku_id, sales_date").to_arrow_table(), baseline_config(baseline_version))
    finally:
        con.close()
    st, sk = world.stores, world.skus
    stores = pa.table(
        {
            "store_id": pa.array(st.store_id, pa.string()),
            "retailer": pa.array([RETAILERS[r] for r in st.retailer], pa.string()),
            "region": pa.array([REGIONS[r] for r in st.region], pa.string()),
        }
    )
    skus = pa.table(
        {
            "sku_id": pa.array(sk.sku_id, pa.string()),
            "category": pa.array([CATEGORIES[c] for c in sk.category], pa.string()),
        }
    )
    tables = scenario.tables
    return LabelledWorld(
        seed=seed,
        baseline=scored.select(["store_id", "sku_id", "sales_date", "actual_units", "expected_units"]),
        stores=stores,
        skus=skus,
        campaigns=tables["campaigns"],
        context_events=tables["context_events"],
        narratives=tables["master_narratives"],
        narrative_targets=tables["narrative_targets"],
        daily_units=units,
    )


def target_windows(world: LabelledWorld) -> pa.Table:
    """The labels: one row per narrative target pair with the narrative's window, direction,
    cluster and cause type."""
    con = duckdb.connect()
    try:
        con.register("n", world.narratives)
        con.register("t", world.narrative_targets)
        return con.sql(
            """
            select t.narrative_id, t.store_id, t.sku_id, n.window_start, n.window_end, n.direction,
                   n.cluster_name, n.cause_type
            from t join n using (narrative_id)
            order by t.narrative_id, t.store_id, t.sku_id
            """
        ).to_arrow_table()
    finally:
        con.close()


def cached_loader(directory: str | None):
    """``spec -> LabelledWorld``, simulating each world once into ``directory`` (None: no cache)."""
    import pickle
    from pathlib import Path

    def load(spec) -> LabelledWorld:
        if directory is None:
            return labelled_world(spec.seed, spec.n_stores, spec.n_skus)
        path = Path(directory) / f"w{spec.seed}_{spec.n_stores}x{spec.n_skus}.pkl"
        if path.exists():
            return pickle.loads(path.read_bytes())
        world = labelled_world(spec.seed, spec.n_stores, spec.n_skus)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(world))
        return world

    return load
