"""On-demand insights: `get_product_insights` and `mrs insights`, cached or computed on the spot.

Most tests use a small hand-made warehouse (the two tables the service reads) so each branch is
exercised directly; the integration tests run against the real build.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from click.testing import CliRunner

from mrs.cli import main
from mrs.insights import get_product_insights
from mrs.insights.heuristic import HeuristicModelRunner
from mrs.insights.runner import UnknownProductError
from mrs.insights.service import WarehouseUnavailable

AS_OF = date(2025, 8, 12)
FEATURES = pa.Table.from_pylist(
    [
        # A: a fresh cached insight; B: a stale one; C: in the features only (mart has no row)
        dict(
            product_id=pid,
            as_of_date=AS_OF,
            product_name=f"Product {pid}",
            category="tin",
            popularity_score=40,
            msrp=50.0,
            latest_price=price,
            history_depth=28,
            mean_28_points=price,
            stddev_28_points=1.0,
            mean_last_7d=price,
            trend_ratio=1.1,
            alerts_last_7d=3,
        )
        for pid, price in (("A", 40.0), ("B", 45.0), ("C", 55.0))
    ]
)


def _mart_rows(stale: dict[str, str | None]) -> pa.Table:
    """Mart rows for the products in ``stale`` (product → stale reason or None), scored by the runner
    but with a recognisable baseline so a cached answer can be told from a computed one."""
    features = FEATURES.filter(pc.is_in(FEATURES.column("product_id"), pa.array(list(stale))))
    insights = HeuristicModelRunner().predict_batch(features).to_pylist()
    rows = []
    for row, name in zip(insights, features.column("product_name").to_pylist(), strict=True):
        reason = stale[row["product_id"]]
        rows.append(
            {
                **row,
                "baseline_price": -1.0,
                "product_name": name,
                "category": "tin",
                "model_name": "product_insights",
                "model_version": "0",
                "log_id": f"log-{row['product_id']}",
                "input_fingerprint": "fp",
                "run_id": "run-1",
                "scored_at": datetime(2025, 8, 13, tzinfo=UTC),
                "stale_reason": reason,
                "is_stale": reason is not None,
            }
        )
    return pa.Table.from_pylist(rows)


def make_warehouse(path: Path, stale: dict[str, str | None] | None, features: bool = True) -> Path:
    with duckdb.connect(str(path)) as con:
        if features:
            con.execute("create schema ml")
            con.register("features_arrow", FEATURES)
            con.execute("create table ml.product_insight_inputs as select * from features_arrow")
        if stale is not None:
            con.execute("create schema if not exists marts")
            con.register("mart_arrow", _mart_rows(stale))
            con.execute("create table marts.product_insights as select * from mart_arrow")
    return path


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return make_warehouse(tmp_path / "w.duckdb", {"A": None, "B": "newer_price_data"})


def test_a_current_cached_insight_is_served_from_the_mart(warehouse: Path) -> None:
    result = get_product_insights("A", warehouse=warehouse)
    assert result.source == "cached"
    assert result.insight["baseline_price"] == -1.0  # the mart's value, not recomputed
    assert result.provenance["log_id"] == "log-A" and result.model_version == "0"


def test_a_stale_cached_insight_is_computed_on_the_spot_and_says_why(warehouse: Path) -> None:
    result = get_product_insights("B", warehouse=warehouse)
    assert result.source == "computed"
    assert "stale (newer_price_data)" in result.source_detail
    assert result.insight["baseline_price"] == 45.0  # the runner on the feature row
    assert result.provenance == {}


def test_a_product_missing_from_the_mart_is_computed_on_the_spot(warehouse: Path) -> None:
    result = get_product_insights("C", warehouse=warehouse)
    assert result.source == "computed" and "has no row" in result.source_detail
    assert result.insight["price_forecast_next_week"] == pytest.approx(55.0 * 1.05)


def test_without_a_mart_every_product_is_computed(tmp_path: Path) -> None:
    path = make_warehouse(tmp_path / "w.duckdb", stale=None)
    result = get_product_insights("A", warehouse=path)
    assert result.source == "computed" and "no marts.product_insights" in result.source_detail


def test_an_unknown_product_raises(warehouse: Path) -> None:
    with pytest.raises(UnknownProductError, match="'ZZZ'"):
        get_product_insights("ZZZ", warehouse=warehouse)


def test_a_missing_warehouse_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WarehouseUnavailable, match="no warehouse at"):
        get_product_insights("A", warehouse=tmp_path / "absent.duckdb")


def test_the_service_reads_the_warehouse_read_only(warehouse: Path) -> None:
    get_product_insights("B", warehouse=warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.sql("select count(*) from marts.product_insights").fetchall() == [(2,)]


def test_cli_prints_forecast_bounds_risk_roi_hype_and_the_source(warehouse: Path) -> None:
    result = CliRunner().invoke(main, ["insights", "A", "--warehouse", str(warehouse)])
    assert result.exit_code == 0, result.output
    for label in (
        "forecast week",
        "forecast month",
        "sellout risk",
        "ROI next week",
        "ROI next month",
        "hype",
        "source",
        "cached",
    ):
        assert label in result.output
    insight = get_product_insights("A", warehouse=warehouse).insight
    assert f"[{insight['price_forecast_next_week_low']:,.2f} .. {insight['price_forecast_next_week_high']:,.2f}]" in result.output

    computed = CliRunner().invoke(main, ["insights", "B", "--warehouse", str(warehouse)])
    assert computed.exit_code == 0 and "computed on the spot" in computed.output


def test_cli_json_prints_the_same_insight_as_json(warehouse: Path) -> None:
    result = CliRunner().invoke(main, ["insights", "B", "--json", "--warehouse", str(warehouse)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    expected = get_product_insights("B", warehouse=warehouse).to_dict()
    assert payload == expected
    assert payload["source"] == "computed" and payload["insight"]["as_of_date"] == "2025-08-12"


def test_cli_unknown_product_exits_non_zero_with_a_one_line_error(warehouse: Path) -> None:
    result = CliRunner().invoke(main, ["insights", "ZZZ", "--warehouse", str(warehouse)])
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "unknown product 'ZZZ'" in lines[0]


@pytest.mark.integration
def test_cli_on_the_built_warehouse_serves_cached_insights(built_warehouse) -> None:
    product_id = built_warehouse.scalar("select min(product_id) from marts.product_insights where not is_stale")
    mrs = str(Path(sys.executable).parent / "mrs")
    shown = subprocess.run(
        [mrs, "insights", product_id, "--warehouse", str(built_warehouse.path)], capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    assert "cached" in shown.stdout and "forecast week" in shown.stdout and "hype" in shown.stdout

    as_json = json.loads(
        subprocess.run(
            [mrs, "insights", product_id, "--json", "--warehouse", str(built_warehouse.path)], capture_output=True, text=True
        ).stdout
    )
    logged = built_warehouse.scalar(
        f"select price_forecast_next_month from marts.product_insights where product_id = '{product_id}'"
    )
    assert as_json["insight"]["price_forecast_next_month"] == logged

    unknown = subprocess.run(
        [mrs, "insights", "NO-SUCH-PRODUCT", "--warehouse", str(built_warehouse.path)], capture_output=True, text=True
    )
    assert unknown.returncode != 0
    assert "Traceback" not in unknown.stderr and len(unknown.stderr.strip().splitlines()) == 1
    assert "unknown product 'NO-SUCH-PRODUCT'" in unknown.stderr
