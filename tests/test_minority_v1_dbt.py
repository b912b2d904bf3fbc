"""The learned (v1) minority-report stages inside dbt, the demo's default: shipped in
trained_models/ with their manifests, approved in seeds/model_approvals.csv, activated by
vars.model_versions. They never read the narratives; a warehouse built with the logs' old columns
upgrades in place; a re-run appends nothing; switching back to version 0 is one setting and
re-scores nothing."""

from __future__ import annotations

import json

import duckdb
import pytest
import yaml
from conftest import PROJECT_ROOT, Warehouse
from test_own_data_dbt import DEMO_DIGESTS, log_digests

from mrs.minority.schemas import MINORITY_LOGS, V1_COLUMNS

pytestmark = pytest.mark.integration

LOGS = tuple(f"ml.{spec.name}" for spec in MINORITY_LOGS)
V0 = {"active_model_versions": {"anomaly_classifier": "0", "cluster_model": "0", "attribution_model": "0"}}
#: the trained versions the demo activates (vars.model_versions): none is the narratives' version 0
TRAINED: dict[str, str] = {
    name: version
    for name, version in yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]["model_versions"].items()
    if name in V0["active_model_versions"]
}
CLASSIFIER = TRAINED["anomaly_classifier"]
#: what a re-scoring build needs: the minority logs, their inputs and everything downstream
MINORITY_NODES = ("--select", "int_minority__scored_periods+")


def _counts(w: Warehouse) -> dict[str, int]:
    return {log: w.scalar(f"select count(*) from {log}") for log in LOGS}


def test_the_demo_build_reports_v1_anomalies_found_without_the_narratives(built_warehouse: Warehouse) -> None:
    detections = built_warehouse.query(
        "select count(*), count(narrative_id), min(model_confidence_metric), max(model_confidence_metric), "
        "count(distinct model_registry_source), min(trained_on), count(found_on), min(model_version), max(model_version) "
        "from ml.detection_log"
    )[0]
    assert detections[0] > 0 and detections[1] == 0  # found in the data; no narrative read
    assert 0.0 <= detections[2] <= detections[3] <= 1.0
    assert detections[4] == 1 and str(detections[5]) == "2025-08-12" and detections[6] == detections[0]
    assert "0" not in TRAINED.values() and detections[7:] == (CLASSIFIER, CLASSIFIER)
    source = built_warehouse.scalar("select max(model_registry_source) from ml.detection_log")
    assert source.startswith(f"artifact:anomaly_classifier/{CLASSIFIER}#sha256=")
    for log, version in (("ml.cluster_log", TRAINED["cluster_model"]), ("ml.attribution_log", TRAINED["attribution_model"])):
        described = built_warehouse.query(
            f"select count(*), count(narrative_id), min(model_confidence_metric), max(model_confidence_metric), "
            f"count(incident_detections), min(model_version) from {log}"
        )[0]
        assert described == (detections[0], 0, described[2], described[3], detections[0], version)
        assert 0.0 <= described[2] <= described[3] <= 1.0
    reports = built_warehouse.query(
        "select count(*), count(distinct anomaly_classifier_version), min(anomaly_classifier_version), "
        "count(cluster_name), count(cause_type), count(narrative_id), min(attribution_model_version) from marts.minority_reports"
    )[0]
    assert reports == (detections[0], 1, CLASSIFIER, detections[0], detections[0], 0, TRAINED["attribution_model"])
    # a v1 detection is linked to the baseline rows it was computed from
    assert built_warehouse.scalar("select count(*) from ml.detection_log where len(baseline_log_ids) <> window_days") == 0
    rates = built_warehouse.query(
        "select status from ml.model_monitoring_log where model_name = 'anomaly_classifier' and signal = 'detection_rate'"
    )
    assert rates  # the classifier's detection rate is monitored against its training rate


def test_an_old_warehouse_upgrades_in_place_and_version_0_is_one_setting_away(project_copy: Warehouse) -> None:
    # version 0 first, then the logs cut back to main's columns: the warehouse today's main builds
    project_copy.dbt("build", vars=V0)
    got = log_digests(project_copy)
    pinned = json.loads(DEMO_DIGESTS.read_text())
    assert {k: got[k] for k in ("detection_log", "cluster_log", "attribution_log")} == {
        k: pinned[k] for k in ("detection_log", "cluster_log", "attribution_log")
    }  # version 0's rows are those main appends
    # the columns version 1 added, and the baseline's batch_fingerprint (added later, for every version)
    added = V1_COLUMNS | {"baseline_log": ("batch_fingerprint",)}
    with duckdb.connect(str(project_copy.path)) as con:
        for log, columns in added.items():
            for column in columns:
                con.execute(f"alter table ml.{log} drop column {column}")
    old = {log: project_copy.query(f"select * from {log} order by log_id") for log in LOGS}

    project_copy.dbt("build")  # the default: version 1
    for log, columns in added.items():
        names = [r[0] for r in project_copy.query(f"describe ml.{log}")]
        assert set(columns) <= set(names)
        kept = [c for c in names if c not in columns]
        rows = project_copy.query(f"select {', '.join(kept)} from ml.{log} where model_version = '0' order by log_id")
        assert rows == old[f"ml.{log}"]  # not a row lost or rewritten
        assert project_copy.scalar(f"select count(*) from ml.{log} where model_version = '0' and {columns[0]} is not null") == 0
    assert project_copy.scalar(f"select count(*) from ml.detection_log where model_version = '{CLASSIFIER}'") > 0
    assert project_copy.query("select distinct anomaly_classifier_version from marts.minority_reports") == [(CLASSIFIER,)]

    counts = _counts(project_copy)
    project_copy.dbt("build", *MINORITY_NODES, vars=V0)  # back to version 0: one setting, nothing re-scored
    assert _counts(project_copy) == counts
    assert project_copy.query("select distinct anomaly_classifier_version from marts.minority_reports") == [("0",)]
    back = project_copy.dbt("build", *MINORITY_NODES)  # and to the trained versions again: their rows are there, nothing appended
    assert _counts(project_copy) == counts
    # the classifier does not scan again what its logged scan read (the same baseline rows)
    assert "mrs detection_log: 0 new" in back.stdout and "not scanned" in back.stdout
    assert project_copy.query("select distinct anomaly_classifier_version from marts.minority_reports") == [(CLASSIFIER,)]
