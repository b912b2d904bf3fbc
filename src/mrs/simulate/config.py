"""Configuration of one simulated world."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

DEFAULT_SEED = 42
DEFAULT_START = date(2025, 5, 1)
DEFAULT_END = date(2025, 8, 12)
DEFAULT_WINDOW_START = date(2025, 8, 7)
DEFAULT_WINDOW_END = date(2025, 8, 12)

#: Fewest days of normal history before the anomaly window (the 4-week same-weekday baseline).
MIN_HISTORY_DAYS = 28


@dataclass(frozen=True)
class DriftConfig:
    """``mrs simulate --drift``: a change of regime over the last days of the world, so that model
    monitoring has something to catch. Without it (the default) the world is exactly the base one.

    Over the last ``days`` days (the anomaly window included) normal sales demand moves to a new
    level and a new weekly pattern, and every product's price moves by ``price_level``. The random
    draws stay the same, so the days before the drift are identical to the base world's.
    """

    #: the last days of the world that drift (21: three weeks up to the last sales day)
    days: int = 21
    #: multiplicative shift of normal sales demand (1.6 = 60 % more)
    sales_level: float = 1.6
    #: Monday..Sunday multipliers on top of the level: demand moves from the weekend to early week
    weekday_factors: tuple[float, float, float, float, float, float, float] = (1.35, 1.25, 1.1, 1.0, 0.85, 0.75, 0.8)
    #: multiplicative move of every observed product price (1.3 = a market-wide 30 % rise)
    price_level: float = 1.3

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError(f"drift days must be >= 1, got {self.days}")
        if self.sales_level <= 0 or self.price_level <= 0 or min(self.weekday_factors) <= 0:
            raise ValueError("drift levels and weekday factors must be > 0")
        if len(self.weekday_factors) != 7:
            raise ValueError("weekday_factors needs 7 values, Monday..Sunday")


@dataclass(frozen=True)
class SimulationConfig:
    """Everything that determines a world: the same config always yields the same files.

    The defaults are the committed demo world (seed 42, 20 stores x 15 SKUs x 104 days, 40 products).
    """

    seed: int = DEFAULT_SEED
    n_stores: int = 20
    n_skus: int = 15
    n_products: int = 40
    start_date: date = DEFAULT_START
    end_date: date = DEFAULT_END
    window_start: date = DEFAULT_WINDOW_START
    window_end: date = DEFAULT_WINDOW_END
    #: stores generated and written together when streaming the sales feeds (memory bound, row groups)
    chunk_stores: int = 50
    #: a change of regime at the end of the world (``mrs simulate --drift``); None: the base world
    drift: DriftConfig | None = None

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")
        if self.n_stores < 4:
            raise ValueError(f"n_stores must be >= 4 (two retailers, several regions), got {self.n_stores}")
        if self.n_skus < 6:
            raise ValueError(f"n_skus must be >= 6 (one per category), got {self.n_skus}")
        if self.n_products < 8:
            raise ValueError(f"n_products must be >= 8 (every history kind), got {self.n_products}")
        if self.chunk_stores < 1:
            raise ValueError(f"chunk_stores must be >= 1, got {self.chunk_stores}")
        if not self.start_date <= self.window_start <= self.window_end <= self.end_date:
            raise ValueError(
                "need start_date <= window_start <= window_end <= end_date, got "
                f"{self.start_date}, {self.window_start}, {self.window_end}, {self.end_date}"
            )
        if (self.window_start - self.start_date).days < MIN_HISTORY_DAYS:
            raise ValueError(
                f"need at least {MIN_HISTORY_DAYS} days of history before the window "
                f"({self.window_start}); start_date is {self.start_date}"
            )

        if self.drift is not None and self.drift.days >= self.n_days:
            raise ValueError(f"drift days ({self.drift.days}) must be fewer than the world's days ({self.n_days})")

    @property
    def n_days(self) -> int:
        return (self.end_date - self.start_date).days + 1

    @property
    def drift_start(self) -> date | None:
        """The first day of the drift (None without drift)."""
        return None if self.drift is None else self.end_date - timedelta(days=self.drift.days - 1)

    def with_days(self, n_days: int) -> SimulationConfig:
        """The same world over `n_days` days that still end on `end_date` (the window stays at the end)."""
        return replace(self, start_date=self.end_date - timedelta(days=n_days - 1))
