"""product_insights_log and the product_insights mart inside dbt: existence, shape, idempotence,
reproducibility and incremental cost."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import PROJECT_ROOT, Warehouse

from mrs.insights import get_product_insights
from mrs.insights.schema import LEARNED_RUNNER_INPUTS, PRODUCT_INSIGHTS_LOG
from mrs.logs import PER_RUN_COLUMNS

LOG = "ml.product_insights_log"
MART = "marts.product_insights"
FEATURES = "ml.product_insight_inputs"
#: project-copy builds select the insights models and everything upstream: the same models as a
#: full build for what is tested here, at a fraction of the cost
INSIGHTS = ("--select", "+product_insights")


def _documented_columns(yaml_path: Path, model: str) -> list[str]:
    models = yaml.safe_load(yaml_path.read_text())["models"]
    [spec] = [m for m in models if m["name"] == model]
    return [c["name"] for c in spec["columns"]]


def _table_columns(warehouse: Warehouse, relation: str) -> list[tuple[str, str]]:
    schema, name = relation.split(".")
    return warehouse.query(
        "select column_name, data_type from information_schema.columns "
        f"where table_schema = '{schema}' and table_name = '{name}' order by ordinal_position"
    )


def _without_per_run_columns(warehouse: Warehouse, relation: str, order_by: str) -> list[tuple]:
    columns = [c for c, _ in _table_columns(warehouse, relation) if c not in PER_RUN_COLUMNS]
    return warehouse.query(f"select {', '.join(columns)} from {relation} order by {order_by}")


def test_the_log_yaml_documents_exactly_the_declared_arrow_schema() -> None:
    documented = _documented_columns(PROJECT_ROOT / "models/ml/insights/_insights__models.yml", "product_insights_log")
    assert documented == PRODUCT_INSIGHTS_LOG.schema.names


@pytest.mark.integration
def test_build_scores_every_feature_row_and_the_log_has_the_declared_schema(built_warehouse: Warehouse) -> None:
    features, logged, keys = built_warehouse.query(
        f"select (select count(*) from {FEATURES}), count(*), count(distinct (product_id, as_of_date)) from {LOG}"
    )[0]
    assert logged == keys == features > 0
    columns = _table_columns(built_warehouse, LOG)
    assert [c for c, _ in columns] == PRODUCT_INSIGHTS_LOG.schema.names
    types = dict(columns)
    assert types["as_of_date"] == "DATE" and types["history_depth"] == "INTEGER"
    assert types["price_forecast_next_week"] == "DOUBLE" and types["scored_at"].startswith("TIMESTAMP")


@pytest.mark.integration
def test_products_without_price_history_fall_back_to_msrp_with_a_reason(built_warehouse: Warehouse) -> None:
    rows = built_warehouse.query(
        f"select baseline_source, msrp_fallback_reason, baseline_price = msrp, current_price is null "
        f"from {LOG} where history_depth = 0"
    )
    assert rows, "the demo world has products without price history"
    assert set(rows) == {("msrp", "no_price_history", True, True)}


@pytest.mark.integration
def test_the_mart_has_one_current_row_per_product(built_warehouse: Warehouse) -> None:
    products = built_warehouse.scalar("select count(*) from staging.stg_price_tracker__products")
    rows, distinct, scored, stale_reasons = built_warehouse.query(
        f"select count(*), count(distinct product_id), count(log_id), "
        f"list(distinct stale_reason) filter (where is_stale) from {MART}"
    )[0]
    assert rows == distinct == scored == products
    # right after a full build no insight is stale for lack of scoring or newer inputs
    assert not {"not_scored", "newer_price_data", "inputs_changed"} & set(stale_reasons or [])
    # the mart serves each product's latest as-of date
    lagging = built_warehouse.scalar(
        f"select count(*) from {MART} m join (select product_id, max(as_of_date) as d from {FEATURES} group by 1) f "
        f"using (product_id) where m.as_of_date <> f.d"
    )
    assert lagging == 0


@pytest.mark.integration
def test_the_yaml_documents_every_column_of_the_mart_and_the_inputs(built_warehouse: Warehouse) -> None:
    documented = _documented_columns(PROJECT_ROOT / "models/marts/insights/_insights__models.yml", "product_insights")
    assert documented == [c for c, _ in _table_columns(built_warehouse, MART)]
    documented = _documented_columns(PROJECT_ROOT / "models/ml/insights/_insights__models.yml", "product_insight_inputs")
    assert documented == [c for c, _ in _table_columns(built_warehouse, FEATURES)]


@pytest.mark.integration
@pytest.mark.prebuilt
def test_rebuilds_append_nothing_full_refresh_keeps_the_log_and_fresh_builds_agree(
    project_copy: Warehouse, tmp_path: Path
) -> None:
    first = _without_per_run_columns(project_copy, LOG, "log_id")
    first_run = project_copy.query(f"select distinct run_id from {LOG}")

    project_copy.dbt("build", *INSIGHTS)
    assert project_copy.scalar(f"select count(*) from {LOG}") == len(first)
    assert project_copy.query(f"select distinct run_id from {LOG}") == first_run

    project_copy.dbt("build", *INSIGHTS, "--full-refresh")
    assert _without_per_run_columns(project_copy, LOG, "log_id") == first
    assert project_copy.query(f"select distinct run_id from {LOG}") == first_run

    fresh = Warehouse(project_dir=project_copy.project_dir, path=tmp_path / "second" / "mrs.duckdb")
    fresh.path.parent.mkdir()
    fresh.dbt("build", *INSIGHTS)
    # the same inputs (else the difference is upstream of the log) give the same log rows
    assert fresh.query(f"select * from {FEATURES} order by all") == project_copy.query(f"select * from {FEATURES} order by all")
    assert _without_per_run_columns(fresh, LOG, "log_id") == first
    assert _without_per_run_columns(fresh, MART, "product_id") == _without_per_run_columns(project_copy, MART, "product_id")
    assert fresh.query(f"select distinct run_id from {LOG}") != first_run


def _edit_one_price(prices_csv: Path) -> tuple[str, date]:
    """Raise by half the price of the product with the most observations on its 10th-latest day
    (inside the last-28-points window of its latest as-of date, well after its first day)."""
    with prices_csv.open(newline="") as f:
        rows = list(csv.DictReader(f))
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["product_id"]] = counts.get(row["product_id"], 0) + 1
    product = max(sorted(counts), key=counts.get)
    dates = sorted({r["observed_on"] for r in rows if r["product_id"] == product})
    day = dates[-10]
    lines = prices_csv.read_text().splitlines(keepends=True)
    prefix = f'"{product}",'
    edited = 0
    for i, line in enumerate(lines):
        if line.startswith(prefix) and f",{day}," in line:
            head, price = line.rstrip("\n").rsplit(",", 1)
            lines[i] = f"{head},{float(price) * 1.5:.2f}\n"
            edited += 1
    assert edited, f"no price row of {product} on {day}"
    prices_csv.write_text("".join(lines))
    return product, date.fromisoformat(day)


@pytest.mark.integration
@pytest.mark.prebuilt
def test_new_price_data_rescores_only_the_affected_product_and_dates(project_copy: Warehouse) -> None:
    # the columns version 0 fingerprints (the learned runner's history lists are left out)
    heuristic_inputs = f"select * exclude ({', '.join(LEARNED_RUNNER_INPUTS)}) from {FEATURES}"
    features_before = set(project_copy.query(heuristic_inputs))
    logged_before = set(project_copy.query(f"select log_id from {LOG}"))
    product, day = _edit_one_price(project_copy.project_dir / "seeds" / "prices.csv")

    # the new price reaches the features and the mart, but not yet the log: the mart flags the
    # product stale and the service computes it on the spot
    project_copy.dbt("build", *INSIGHTS, "--exclude", "product_insights_log")
    assert project_copy.scalar(f"select count(*) from {LOG}") == len(logged_before)
    stale = project_copy.query(f"select product_id, stale_reason from {MART} where stale_reason = 'inputs_changed'")
    assert stale == [(product, "inputs_changed")]
    served = get_product_insights(product, warehouse=project_copy.path)
    assert served.source == "computed" and "inputs_changed" in served.source_detail

    project_copy.dbt("build", *INSIGHTS)
    changed = {(row[0], row[1]) for row in set(project_copy.query(heuristic_inputs)) - features_before}
    appended = {
        (product_id, as_of_date)
        for log_id, product_id, as_of_date in project_copy.query(f"select log_id, product_id, as_of_date from {LOG}")
        if (log_id,) not in logged_before
    }
    product_dates = project_copy.scalar(f"select count(*) from {FEATURES} where product_id = '{product}'")
    assert appended == changed
    assert {p for p, _ in appended} == {product}
    assert min(d for _, d in appended) == day
    assert 0 < len(appended) < product_dates
    current = project_copy.query(f"select is_stale, as_of_date, history_depth from {MART} where product_id = '{product}'")
    assert current[0][0] is False
    assert get_product_insights(product, warehouse=project_copy.path).source == "cached"


#: the columns version 1 added to the log (for every version)
ADDED_COLUMNS = ("price_source", "price_age_days", "bound_level", "forecast_method")


@pytest.mark.integration
@pytest.mark.prebuilt
def test_a_log_built_before_the_new_columns_upgrades_in_place_without_rescoring_or_rewriting(project_copy: Warehouse) -> None:
    # the log as a warehouse built before version 1 has it: without the columns version 1 added
    with duckdb.connect(str(project_copy.path)) as con:
        for column in ADDED_COLUMNS:
            con.execute(f"alter table {LOG} drop column {column}")
    old_columns = [c for c, _ in _table_columns(project_copy, LOG)]
    before = project_copy.query(f"select {', '.join(old_columns)} from {LOG} order by log_id")

    project_copy.dbt("build", *INSIGHTS)
    columns = [c for c, _ in _table_columns(project_copy, LOG)]
    assert columns == old_columns + list(ADDED_COLUMNS)  # added at the end, by ALTER TABLE
    assert project_copy.query(f"select {', '.join(old_columns)} from {LOG} order by log_id") == before  # no row rewritten
    assert project_copy.scalar(f"select count(*) from {LOG} where {' or '.join(f'{c} is not null' for c in ADDED_COLUMNS)}") == 0
    assert project_copy.scalar(f"select count(*) from {MART} where log_id is null") == 0  # the old rows still serve
    assert project_copy.scalar(f"select count(*) from {MART} where stale_reason = 'inputs_changed'") == 0
