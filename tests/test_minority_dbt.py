"""The minority-report pipeline inside dbt: baseline_log -> detection_log -> cluster_log ->
attribution_log -> minority_reports / daily_sales_vs_baseline."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT_ROOT, Warehouse

from mrs.minority.schemas import MINORITY_LOGS

pytestmark = pytest.mark.integration

LOGS = tuple(f"ml.{spec.name}" for spec in MINORITY_LOGS)
REPORTS = "marts.minority_reports"
DAILY = "marts.daily_sales_vs_baseline"
NARRATIVES = "staging.stg_narratives__narratives"
TARGETS = "staging.stg_narratives__narrative_targets"
#: project-copy builds select the minority-report marts and everything upstream of them
MINORITY = ("--select", "+minority_reports", "+daily_sales_vs_baseline")
#: version 0 of the three stages, the narratives' MVP (the demo's default is version 1)
V0 = {"anomaly_classifier": "0", "cluster_model": "0", "attribution_model": "0"}
TRACEABILITY = ("model_version", "trained_on", "model_registry_source", "model_confidence_metric")


def _active_versions(**overrides: str) -> dict[str, dict[str, str]]:
    project = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())
    return {"active_model_versions": {**project["vars"]["active_model_versions"], **V0, **overrides}}


def _counts(warehouse: Warehouse) -> dict[str, int]:
    return {log: warehouse.scalar(f"select count(*) from {log}") for log in LOGS}


def _rows(warehouse: Warehouse, relation: str) -> list[tuple]:
    return warehouse.query(f"select * exclude (run_id, scored_at) from {relation} order by log_id")


# ---- version 0's guarantees (checked on a private version-0 build below) ------------------------


def _every_narrative_is_reported_with_cluster_cause_confidence_and_versions(built_warehouse: Warehouse) -> None:
    narratives = built_warehouse.query(f"select narrative_id, title, cluster_name, cause, confidence from {NARRATIVES}")
    assert narratives, "the demo world has narratives"
    reported = built_warehouse.query(
        f"select narrative_id, narrative_title, cluster_name, cause, cause_confidence, count(*) from {REPORTS} group by all"
    )
    assert {r[:5] for r in reported} == set(narratives)
    targets = dict(built_warehouse.query(f"select narrative_id, count(*) from {TARGETS} group by 1"))
    assert {r[0]: r[5] for r in reported} == targets  # one report per target pair of each narrative
    missing = built_warehouse.scalar(
        f"select count(*) from {REPORTS} where cluster_similarity is null or cause_type is null "
        "or baseline_model_version is null or anomaly_classifier_version is null "
        "or cluster_model_version is null or attribution_model_version is null"
    )
    assert missing == 0


def _stores_and_skus_outside_the_narratives_have_no_detections(built_warehouse: Warehouse) -> None:
    outside = built_warehouse.scalar(f"select count(*) from ml.detection_log d anti join {TARGETS} t using (store_id, sku_id)")
    assert outside == 0
    windows = built_warehouse.scalar(
        f"select count(*) from ml.detection_log d join {NARRATIVES} n using (narrative_id) "
        "where d.window_start <> n.window_start or d.window_end <> n.window_end"
    )
    assert windows == 0


# ---- the committed project, built once ----------------------------------------------------------


def test_narrative_pairs_deviate_from_the_baseline_and_the_others_do_not(built_warehouse: Warehouse) -> None:
    """The baseline is realistic: in the narrative windows only the narrative pairs stray far."""
    strays = dict(
        built_warehouse.query(
            f"select t.store_id is not null, median(abs(b.residual_units) / greatest(b.expected_units, 1)) "
            f"from {DAILY} b left join {TARGETS} t using (store_id, sku_id) "
            f"join {NARRATIVES} n on b.sales_date between n.window_start and n.window_end "
            "where t.store_id is null or t.narrative_id = n.narrative_id group by 1"
        )
    )
    assert strays[True] > 2 * strays[False]
    z = built_warehouse.scalar(f"select median(abs(z_score)) from {REPORTS}")
    assert z > 1.0


def test_detection_residuals_equal_actual_minus_baseline(built_warehouse: Warehouse) -> None:
    rows = built_warehouse.query(
        """
        select d.anomaly_id, d.actual_units, d.expected_units, d.residual_units,
               sum(b.actual_units), sum(b.expected_units), count(*), d.window_days
        from ml.detection_log d
        join ml.baseline_log b
            on b.store_id = d.store_id and b.sku_id = d.sku_id
            and b.sales_date between d.window_start and d.window_end
            and b.model_version = d.baseline_model_version
        group by all
        """
    )
    assert rows
    for anomaly, actual, expected, residual, base_actual, base_expected, days, window_days in rows:
        assert days == window_days, anomaly
        assert actual == base_actual, anomaly
        assert expected == pytest.approx(base_expected), anomaly
        assert residual == pytest.approx(base_actual - base_expected), anomaly


def test_every_log_row_is_traceable_to_its_model_version(built_warehouse: Warehouse) -> None:
    for log in LOGS:
        total = built_warehouse.scalar(f"select count(*) from {log}")
        assert total > 0, log
        for column in TRACEABILITY + ("model_name", "log_id", "input_fingerprint", "run_id", "scored_at"):
            assert built_warehouse.scalar(f"select count({column}) from {log}") == total, (log, column)
    names = {built_warehouse.scalar(f"select string_agg(distinct model_name) from {log}") for log in LOGS}
    assert names == {"baseline", "anomaly_classifier", "cluster_model", "attribution_model"}


def test_the_baseline_scores_the_window_and_recent_history(built_warehouse: Warehouse) -> None:
    project = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]
    first, last, days, pairs = built_warehouse.query(
        "select min(sales_date), max(sales_date), count(distinct sales_date), count(distinct (store_id, sku_id)) "
        "from ml.baseline_log"
    )[0]
    last_sale, all_pairs = built_warehouse.query(
        "select max(sales_date), count(distinct (store_id, sku_id)) from intermediate.unified_sales_data"
    )[0]
    # the window follows the narratives (the vars are empty by default)
    assert project["anomaly_window_start"] == project["anomaly_window_end"] == ""
    window_start = built_warehouse.scalar(f"select min(window_start) from {NARRATIVES}")
    assert last == last_sale and pairs == all_pairs
    assert first == min(window_start, last_sale - timedelta(days=project["baseline_scoring_periods"] - 1))
    assert built_warehouse.scalar("select count(*) from ml.baseline_log") == days * pairs


def test_the_yaml_documents_every_mart_column(built_warehouse: Warehouse) -> None:
    models = yaml.safe_load((PROJECT_ROOT / "models/marts/minority_reports/_minority_reports__models.yml").read_text())
    for model in models["models"]:
        columns = built_warehouse.query(
            "select column_name from information_schema.columns "
            f"where table_schema = 'marts' and table_name = '{model['name']}' order by ordinal_position"
        )
        assert [c["name"] for c in model["columns"]] == [c for (c,) in columns], model["name"]


# ---- private builds (version 0 of the three stages; version 1's are in test_minority_v1_dbt) ----


def test_version_0_reports_every_narrative_a_rerun_appends_nothing_and_full_refresh_keeps_every_log(
    project_copy: Warehouse,
) -> None:
    project_copy.dbt("build", *MINORITY, vars=_active_versions())
    _every_narrative_is_reported_with_cluster_cause_confidence_and_versions(project_copy)
    _stores_and_skus_outside_the_narratives_have_no_detections(project_copy)
    first = {log: _rows(project_copy, log) for log in LOGS}
    assert all(first.values())

    project_copy.dbt("build", *MINORITY, vars=_active_versions())
    assert _counts(project_copy) == {log: len(rows) for log, rows in first.items()}

    project_copy.dbt("build", *MINORITY, "--full-refresh", vars=_active_versions())
    assert {log: _rows(project_copy, log) for log in LOGS} == first


def test_switching_a_version_appends_beside_the_old_rows_and_the_mart_shows_it(project_copy: Warehouse) -> None:
    project_copy.dbt("build", *MINORITY, vars=_active_versions())
    before = _counts(project_copy)
    reports_v0 = project_copy.query(f"select anomaly_id, detection_log_id, expected_units from {REPORTS} order by 1")

    project_copy.dbt("build", *MINORITY, vars=_active_versions(baseline="0.1"))
    after = _counts(project_copy)
    versions = dict(project_copy.query("select model_version, count(*) from ml.baseline_log group by 1"))
    assert versions == {"0": before["ml.baseline_log"], "0.1": before["ml.baseline_log"]}
    # every downstream stage re-scored its rows on the new baseline, beside the old ones
    for log in ("ml.detection_log", "ml.cluster_log", "ml.attribution_log"):
        assert after[log] == 2 * before[log], log
    reports_v01 = project_copy.query(f"select anomaly_id, detection_log_id, expected_units from {REPORTS} order by 1")
    assert [r[0] for r in reports_v01] == [r[0] for r in reports_v0]
    assert project_copy.query(f"select distinct baseline_model_version from {REPORTS}") == [("0.1",)]
    assert not {r[1] for r in reports_v01} & {r[1] for r in reports_v0}
    assert [r[2] for r in reports_v01] != [r[2] for r in reports_v0]  # a real variant, not a relabel

    # rolling back appends nothing and shows the first reports again
    project_copy.dbt("build", *MINORITY, vars=_active_versions())
    assert _counts(project_copy) == after
    assert project_copy.query(f"select anomaly_id, detection_log_id, expected_units from {REPORTS} order by 1") == reports_v0


def _add_a_sales_day(seeds: Path, day: date) -> None:
    """Repeat the feeds' last day on `day` in both retailers' feeds."""
    last = day - timedelta(days=1)
    for name, column, fmt in (("sales_northmart", "date", "%Y-%m-%d"), ("sales_coastco", "TXN_DATE", "%Y%m%d")):
        path = seeds / f"{name}.csv"
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            fields, rows = reader.fieldnames, list(reader)
        new = [{**r, column: day.strftime(fmt)} for r in rows if r[column] == last.strftime(fmt)]
        assert new, f"{name} has no rows on {last}"
        with path.open("a", newline="") as f:
            csv.DictWriter(f, fieldnames=fields, lineterminator="\n").writerows(new)


def test_a_new_sales_day_appends_baseline_rows_for_that_day_only(project_copy: Warehouse) -> None:
    project_copy.dbt("build", *MINORITY, vars=_active_versions())
    before = _counts(project_copy)
    last = project_copy.scalar("select max(sales_date) from intermediate.unified_sales_data")
    pairs = project_copy.scalar("select count(distinct (store_id, sku_id)) from intermediate.unified_sales_data")

    new_day = last + timedelta(days=1)
    _add_a_sales_day(project_copy.project_dir / "seeds", new_day)
    result = project_copy.dbt("build", *MINORITY, vars={"sales_end_date": new_day.isoformat(), **_active_versions()})
    # the older sales are those of the logged batch: only the new day was scored
    assert f"periods after {last} (the sales up to it are those of a logged batch)" in result.stdout
    appended = project_copy.query("select sales_date, count(*) from ml.baseline_log group by 1 order by 1 desc limit 2")
    assert appended[0] == (new_day, pairs)
    assert project_copy.scalar("select count(*) from ml.baseline_log") == before["ml.baseline_log"] + pairs
    # the detections' inputs did not change: nothing downstream is re-scored
    after = _counts(project_copy)
    for log in ("ml.detection_log", "ml.cluster_log", "ml.attribution_log"):
        assert after[log] == before[log], log
