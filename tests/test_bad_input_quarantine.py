"""Bad input through a whole `dbt build`: strict mode (the default) stops before anything
downstream of the checked layer runs; quarantine mode sets the bad rows aside with their rule,
goes on, counts them in the output and in a mart, and keeps them out of every log and mart
(nothing silently accepted, nothing silently dropped)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import Warehouse
from test_bad_input_corpus import set_value, set_where

pytestmark = pytest.mark.integration

ABSURD_UNITS = "1000000000000"


def seed(warehouse: Warehouse, name: str) -> Path:
    return warehouse.project_dir / "seeds" / f"{name}.csv"


def mutate(warehouse: Warehouse, name: str, *changes) -> None:
    path = seed(warehouse, name)
    text = path.read_text()
    for change in changes:
        text = change(text)
    path.write_text(text)


def seed_units(warehouse: Warehouse) -> float:
    total = 0.0
    for name, column in (("sales_northmart", "units"), ("sales_coastco", "QTY")):
        with seed(warehouse, name).open() as handle:
            total += sum(float(row[column]) for row in csv.DictReader(handle))
    return total


def statuses(warehouse: Warehouse) -> dict[str, str]:
    results = json.loads((warehouse.path.parent / "target" / "run_results.json").read_text())["results"]
    return {
        r["unique_id"].split(".")[-1] if r["unique_id"].startswith("model.") else r["unique_id"]: r["status"] for r in results
    }


def test_strict_mode_fails_at_the_checked_layer_and_nothing_downstream_runs(project_copy: Warehouse) -> None:
    mutate(project_copy, "sales_northmart", set_value("units", ABSURD_UNITS))
    result = project_copy.dbt("build", check=False)
    assert result.returncode != 0
    assert "Data test FAILED: stg_northmart__sales_keeps_the_input_rules" in result.stdout
    assert f"offending_value={ABSURD_UNITS}" in result.stdout and "rule=units_below_absolute_cap" in result.stdout
    status = statuses(project_copy)
    for downstream in (
        "unified_sales_data",
        "int_sales_features",
        "baseline_log",
        "detection_log",
        "daily_sales_vs_baseline",
        "minority_reports",
    ):
        assert status[downstream] == "skipped", (downstream, status[downstream])
    assert project_copy.scalar("select max(build_status) from ml.model_activation_log") == "failed"


def test_a_strict_build_without_the_staging_input_tests_fails_at_input_quarantine_quoting_the_rows(
    project_copy: Warehouse,
) -> None:
    # the staging tests left out: input_quarantine checks every feed itself (input_quarantine_tables())
    mutate(project_copy, "sales_northmart", set_value("units", ABSURD_UNITS))
    selection = ("--select", "+input_quarantine", "--exclude", "test_type:singular", "--indirect-selection", "cautious")
    result = project_copy.dbt("build", *selection, check=False)
    assert result.returncode != 0
    assert "Data test FAILED: input_rules_hold_input_quarantine_" in result.stdout, result.stdout[-3000:]
    assert f"offending_value={ABSURD_UNITS}" in result.stdout and "rule=units_below_absolute_cap" in result.stdout
    assert "keeps_the_input_rules" not in result.stdout


def test_an_input_rule_test_renamed_without_its_entry_fails_to_compile_saying_where_to_add_it(project_copy: Warehouse) -> None:
    # each test finds its tables by its own name: a renamed file must not check nothing, nor be
    # missed by input_quarantine_tables() (which would then check its feeds a second time)
    tests = project_copy.project_dir / "tests" / "dbt"
    (tests / "stg_coastco__sales_keeps_the_input_rules.sql").rename(tests / "stg_coastco__sales_keeps_the_rules.sql")
    result = project_copy.dbt("parse", check=False)
    assert result.returncode != 0
    assert "stg_coastco__sales_keeps_the_rules.sql calls input_rule_test_violations()" in result.stdout, result.stdout[-3000:]
    assert "macros/checks/input_rules.sql" in result.stdout


def test_quarantine_mode_sets_bad_rows_aside_counts_them_and_keeps_them_out_of_logs_and_marts(
    project_copy: Warehouse,
) -> None:
    mutate(
        project_copy,
        "sales_northmart",
        set_where("units", ABSURD_UNITS, "date", "2025-08-10"),  # inside the days the baseline scores
        set_where("store_id", "106", "date", "2025-08-11"),  # a coastco store number in northmart's feed
        set_value("net_sales", "-3.5", row=3),
    )
    mutate(
        project_copy,
        "sales_coastco",  # on busy days: the store keeps other rows that day (coverage)
        set_where("EAN", "4000000000000", "TXN_DATE", "20250811"),
        set_where("TXN_DATE", "2025-13-45", "TXN_DATE", "20250810"),
    )
    units_in_feeds = seed_units(project_copy)

    result = project_copy.dbt("build", vars={"bad_input_mode": "quarantine"}, check=False)
    assert result.returncode == 0, result.stdout[-5000:]
    assert "Data test warned: input_rules_hold_input_quarantine_" in result.stdout

    quarantined = {(t, r) for t, r in project_copy.query("select table_name, rule from checked.input_quarantine")}
    assert quarantined == {
        ("stg_northmart__sales", "units_below_absolute_cap"),
        ("stg_northmart__sales", "units_plausible_for_the_pair"),
        ("stg_northmart__sales", "store_is_this_retailers"),
        ("stg_northmart__sales", "revenue_not_negative"),
        ("sales_coastco", "txn_date_is_a_calendar_date"),
        ("stg_coastco__sales", "sales_date_parsed"),
        ("stg_coastco__sales", "ean_is_known"),
    }
    summary = dict(project_copy.query("select rule, quarantined_rows from marts.input_quarantine_summary"))
    assert summary["store_is_this_retailers"] == 1 and summary["units_below_absolute_cap"] == 1
    assert project_copy.scalar("select count(distinct bad_input_mode) from marts.input_quarantine_summary") == 1

    # nothing quarantined reaches the features, the logs or the marts ...
    assert project_copy.scalar("select max(units_sold) from intermediate.unified_sales_data") < 1000
    assert project_copy.scalar("select max(actual_units) from ml.baseline_log") < 1000
    assert project_copy.scalar("select max(actual_units) from ml.detection_log") < 1000
    assert project_copy.scalar("select max(actual_units) from marts.daily_sales_vs_baseline") < 1000
    # ... and nothing else is lost: the features hold every unit of the rows not quarantined
    quarantined_units = project_copy.scalar(
        "select coalesce(sum(cast(json_extract(offending_row, '$.units_sold') as double)), 0) "
        "from (select distinct row_key, offending_row from checked.input_quarantine where table_name like 'stg_%')"
    )
    assert (
        project_copy.scalar("select sum(units_sold) from intermediate.unified_sales_data") == units_in_feeds - quarantined_units
    )
