"""`mrs simulate`: write a synthetic world as seeds (CSV) or as Parquet files."""

from __future__ import annotations

import time
from pathlib import Path

import click

from mrs.cli_options import emit, json_option
from mrs.project import project_root
from mrs.simulate.config import DEFAULT_SEED, MIN_HISTORY_DAYS, DriftConfig, SimulationConfig
from mrs.simulate.simulator import write_simulation

_WINDOW_DAYS = (SimulationConfig().window_end - SimulationConfig().window_start).days + 1


def default_out_dir(cwd: Path | None = None) -> Path:
    """`seeds/` of the dbt project containing cwd (the nearest dbt_project.yml above), else ./seeds."""
    return (project_root(cwd) or (cwd or Path.cwd()).resolve()) / "seeds"


@click.command("simulate")
@json_option
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=DEFAULT_SEED,
    show_default=True,
    help="World seed: the same seed gives byte-identical files, another seed another world.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output directory.  [default: seeds/ of the dbt project around the current directory]",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet"]),
    default="csv",
    show_default=True,
    help="Write one <table>.csv or <table>.parquet per table.",
)
@click.option("--stores", type=click.IntRange(min=4), default=20, show_default=True, help="Stores (both retailers).")
@click.option("--skus", type=click.IntRange(min=6), default=15, show_default=True, help="SKUs (every store sells every SKU).")
@click.option(
    "--days",
    type=click.IntRange(min=MIN_HISTORY_DAYS + _WINDOW_DAYS),
    default=104,
    show_default=True,
    help="Days of sales, ending 2025-08-12, so the anomaly window 2025-08-07..12 stays at the end.",
)
@click.option("--products", type=click.IntRange(min=8), default=40, show_default=True, help="Trading-card products.")
@click.option(
    "--drift",
    is_flag=True,
    default=False,
    help="Shift the last 3 weeks (sales level and weekly pattern, product prices) so drift monitoring has something to catch.",
)
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress bar on stderr.")
def simulate(
    seed: int,
    out_dir: Path | None,
    fmt: str,
    stores: int,
    skus: int,
    days: int,
    products: int,
    drift: bool,
    progress: bool,
) -> None:
    """Write a deterministic synthetic world: stores, SKUs, the two retailers' sales feeds,
    narratives and their targets, campaigns, context events, products, prices and alerts.

    Sales are generated and written a chunk of stores at a time, so large worlds
    (e.g. --stores 2000 --skus 100 --days 120 --format parquet) run in bounded memory.
    """
    config = SimulationConfig(
        seed=seed, n_stores=stores, n_skus=skus, n_products=products, drift=DriftConfig() if drift else None
    ).with_days(days)
    out_dir = out_dir or default_out_dir()
    began = time.perf_counter()
    rows = write_simulation(config, out_dir, fmt, progress=progress)
    seconds = time.perf_counter() - began
    counts = " ".join(f"{name}={n:,}" for name, n in rows.items())
    emit(
        {
            "seed": seed,
            "drift_start": config.drift_start if drift else None,
            "format": fmt,
            "out_dir": out_dir,
            "tables": rows,
            "rows": sum(rows.values()),
            "seconds": round(seconds, 3),
        },
        f"mrs simulate: seed {seed}{f', drift from {config.drift_start}' if drift else ''}, {len(rows)} tables, "
        f"{sum(rows.values()):,} rows ({counts}) "
        f"as {fmt} in {out_dir} [{seconds:.1f}s]",
    )
