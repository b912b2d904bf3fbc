"""Deterministic synthetic data for MRS: the raw tables of docs/data_contract.md from a seed number.

    from mrs.simulate import SimulationConfig, simulate, write_world
    tables = simulate(SimulationConfig(seed=7, n_stores=8, n_skus=10))
    write_world(tables, "out", "parquet")

`write_simulation` streams large worlds straight to files; `mrs simulate` is the command line.
"""

from mrs.simulate.config import SimulationConfig
from mrs.simulate.schemas import TABLE_SCHEMAS
from mrs.simulate.simulator import simulate, write_simulation
from mrs.simulate.writer import write_world

__all__ = ["SimulationConfig", "TABLE_SCHEMAS", "simulate", "write_simulation", "write_world"]
