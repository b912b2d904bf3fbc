"""`mrs simulate --drift`: the last weeks change regime so monitoring has something to catch; the
base world stays exactly what it was."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from click.testing import CliRunner

from mrs.simulate import SimulationConfig, simulate
from mrs.simulate.cli import simulate as simulate_command
from mrs.simulate.config import DriftConfig

SMALL = SimulationConfig(seed=11, n_stores=8, n_skus=10, n_products=12).with_days(60)
DRIFTED = replace(SMALL, drift=DriftConfig())


@pytest.fixture(scope="module")
def worlds() -> tuple[dict[str, pa.Table], dict[str, pa.Table]]:
    return simulate(SMALL), simulate(DRIFTED)


def _split(table: pa.Table, column: str, start) -> tuple[pa.Table, pa.Table]:
    dates = table.column(column)
    if pa.types.is_string(dates.type):  # coastco's YYYYMMDD
        start = start.strftime("%Y%m%d")
    before = pc.less(dates, pa.scalar(start, dates.type))
    return table.filter(before), table.filter(pc.invert(before))


def test_every_day_before_the_drift_is_the_base_worlds(worlds) -> None:
    base, drifted = worlds
    start = DRIFTED.drift_start
    assert start == SMALL.end_date - timedelta(days=DriftConfig().days - 1)
    for feed, column in (("sales_northmart", "date"), ("sales_coastco", "TXN_DATE")):
        assert _split(base[feed], column, start)[0].equals(_split(drifted[feed], column, start)[0]), feed
    for name in ("stores", "skus", "master_narratives", "narrative_targets", "campaigns", "context_events", "products", "alerts"):
        assert base[name].equals(drifted[name]), name
    assert _split(base["prices"], "observed_on", start)[0].equals(_split(drifted["prices"], "observed_on", start)[0])


def test_the_last_weeks_sell_more_with_another_weekly_pattern(worlds) -> None:
    base, drifted = worlds
    start = DRIFTED.drift_start
    after_base = _split(base["sales_northmart"], "date", start)[1]
    after_drift = _split(drifted["sales_northmart"], "date", start)[1]
    total = pc.sum(after_drift.column("units")).as_py() / pc.sum(after_base.column("units")).as_py()
    assert total > 1.3

    def by_weekday(table: pa.Table) -> dict[int, int]:
        days = pc.day_of_week(table.column("date"))  # Monday = 0
        return {d: pc.sum(table.filter(pc.equal(days, d)).column("units")).as_py() for d in range(7)}

    b, d = by_weekday(after_base), by_weekday(after_drift)
    assert d[0] / b[0] > d[5] / b[5] * 1.4  # demand moved from Saturday to Monday


def test_prices_move_from_the_drift_start(worlds) -> None:
    base, drifted = worlds
    after_base = _split(base["prices"], "observed_on", DRIFTED.drift_start)[1]
    after_drift = _split(drifted["prices"], "observed_on", DRIFTED.drift_start)[1]
    ratio = pc.divide(after_drift.column("price"), after_base.column("price"))
    assert pc.min(ratio).as_py() == pytest.approx(DriftConfig().price_level, abs=0.01)
    assert pc.max(ratio).as_py() == pytest.approx(DriftConfig().price_level, abs=0.01)


def test_the_command_writes_a_drifted_world_only_when_asked(tmp_path: Path) -> None:
    args = ["--seed", "11", "--stores", "8", "--skus", "10", "--products", "12", "--days", "60", "--no-progress"]
    runner = CliRunner()
    assert runner.invoke(simulate_command, [*args, "--out", str(tmp_path / "base")]).exit_code == 0
    result = runner.invoke(simulate_command, [*args, "--drift", "--out", str(tmp_path / "drift")])
    assert result.exit_code == 0 and f"drift from {DRIFTED.drift_start}" in result.output
    assert (tmp_path / "base" / "stores.csv").read_bytes() == (tmp_path / "drift" / "stores.csv").read_bytes()
    assert (tmp_path / "base" / "sales_northmart.csv").read_bytes() != (tmp_path / "drift" / "sales_northmart.csv").read_bytes()


def test_a_drift_longer_than_the_world_is_refused() -> None:
    with pytest.raises(ValueError, match="drift days"):
        replace(SMALL, drift=DriftConfig(days=60))
