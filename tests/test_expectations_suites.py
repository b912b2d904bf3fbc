"""Every log and every mart has a Great Expectations suite, the suites cover the declared schemas,
and the validation steps reference them. Fast: reads files, never imports Great Expectations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT_ROOT

from mrs.logs import METADATA_COLUMNS
from mrs.quality.frames import pandas_type_name
from mrs.quality.parameters import PARAMETERS
from mrs.quality.registry import PARAMETER_PREFIX
from mrs.quality.scaffold import discover_log_specs
from mrs.quality.settings import RESULTS_LOG, suite_dir
from mrs.quality.suites import (
    SCHEMA_META_KEY,
    declared_columns,
    load_suite,
    not_null_columns,
    parameters_used,
    resolve_schema,
    typed_columns,
)

GX = PROJECT_ROOT / "expectations" / "gx"
SUITES = suite_dir(PROJECT_ROOT / "expectations")
QUALITY = PROJECT_ROOT / "models/ml/quality"
MART_STEP = QUALITY / "mart_validations.py"
STEPS_MACRO = PROJECT_ROOT / "macros/quality/validated_log.sql"

#: *_log models that are not validated by a suite of their own, and why.
NOT_SUITE_VALIDATED = {
    RESULTS_LOG: "the suites' own results; its columns are checked by dbt tests in _quality__models.yml",
}


def log_models(models_dir: Path) -> dict[str, Path]:
    """Every ``*_log`` model (SQL or Python) under a models folder, by model name."""
    return {p.stem: p for p in sorted(models_dir.glob("**/*_log.*")) if p.suffix in (".sql", ".py")}


def mart_models(models_dir: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted((models_dir / "marts").glob("**/*.sql"))}


def log_validation_steps(macro: Path, quality_dir: Path) -> dict[str, Path]:
    """``log_validation_steps()`` of the validated_log macro: log name → the step model's file."""
    return {log: quality_dir / f"{step}.py" for log, step in re.findall(r"'(\w+_log)'\s*:\s*'(\w+)'", macro.read_text())}


def missing_suites(models: dict[str, Path], suites_dir: Path, steps: dict[str, Path]) -> list[str]:
    """Models without a suite file, or not referenced by the validation step that should run them."""
    problems = []
    for name in models:
        if not (suites_dir / f"{name}.json").exists():
            problems.append(f"{name}: no suite {suites_dir / (name + '.json')}")
        step = steps.get(name)
        code = step.read_text() if step is not None and step.exists() else ""
        if not re.search(rf"""dbt\.ref\(\s*["']{name}["']\s*\)""", code):
            problems.append(f"{name}: not validated by {step.name if step else 'any validation step'}")
    return problems


def test_every_log_model_has_a_suite_and_is_validated() -> None:
    logs = {n: p for n, p in log_models(PROJECT_ROOT / "models").items() if n not in NOT_SUITE_VALIDATED}
    assert logs, "the project has logs"
    assert missing_suites(logs, SUITES, log_validation_steps(STEPS_MACRO, QUALITY)) == []


def test_every_mart_has_a_suite_and_is_validated() -> None:
    marts = mart_models(PROJECT_ROOT / "models")
    assert marts, "the project has marts"
    assert missing_suites(marts, SUITES, dict.fromkeys(marts, MART_STEP)) == []


def test_a_new_log_without_a_suite_is_caught(tmp_path: Path) -> None:
    models = tmp_path / "models" / "ml" / "pricing"
    models.mkdir(parents=True)
    (models / "price_alert_log.py").write_text("def model(dbt, session): ...\n")
    (tmp_path / "suites").mkdir()
    step = tmp_path / "pricing_log_validations.py"
    step.write_text('logs = {"other_log": dbt.ref("other_log")}\n')
    logs = log_models(tmp_path / "models")
    assert missing_suites(logs, tmp_path / "suites", {}) == [
        f"price_alert_log: no suite {tmp_path / 'suites' / 'price_alert_log.json'}",
        "price_alert_log: not validated by any validation step",
    ]
    assert missing_suites(logs, tmp_path / "suites", {"price_alert_log": step})[1:] == [
        "price_alert_log: not validated by pricing_log_validations.py"
    ]


SPECS = discover_log_specs()
LOG_SUITES = sorted(
    name for name in log_models(PROJECT_ROOT / "models") if name not in NOT_SUITE_VALIDATED and (SUITES / f"{name}.json").exists()
)


@pytest.mark.parametrize("log_name", LOG_SUITES)
def test_the_suite_covers_every_column_the_log_declares(log_name: str) -> None:
    suite = load_suite(SUITES / f"{log_name}.json")
    reference = suite.get("meta", {}).get(SCHEMA_META_KEY)
    assert reference, f"the suite names where {log_name}'s columns are declared (meta.{SCHEMA_META_KEY})"
    if log_name in SPECS:
        assert reference == SPECS[log_name]
    schema = resolve_schema(reference)
    assert declared_columns(suite) == schema.names, "the suite lists the declared columns, in order"
    assert typed_columns(suite) == {f.name: pandas_type_name(f.type) for f in schema}, "one type per column"
    required = {f.name for f in schema if not f.nullable}
    assert required <= not_null_columns(suite), "every required column is expected not null"
    unique = {e["kwargs"].get("column") for e in suite["expectations"] if e["type"] == "expect_column_values_to_be_unique"}
    assert "log_id" in unique


def test_every_log_spec_has_a_model_and_a_suite() -> None:
    logs = log_models(PROJECT_ROOT / "models")
    assert sorted(set(SPECS) - set(logs)) == []
    assert sorted(set(SPECS) - set(LOG_SUITES)) == []


@pytest.mark.parametrize("suite_path", sorted(SUITES.glob("*.json")), ids=lambda p: p.stem)
def test_the_suite_is_registered_and_its_parameters_are_provided(suite_path: Path) -> None:
    name = suite_path.stem
    suite = load_suite(suite_path)
    assert suite["name"] == name
    assert (GX / "checkpoints" / f"{name}.json").exists() and (GX / "validation_definitions" / f"{name}.json").exists()
    assets = yaml.safe_load((GX / "great_expectations.yml").read_text())["fluent_datasources"]["mrs_warehouse"]["assets"]
    assert name in assets
    provided = {p for p in PARAMETERS if not p.startswith(PARAMETER_PREFIX)}
    unknown = {p for p in parameters_used(suite) if p not in provided and not p.startswith(PARAMETER_PREFIX)}
    assert unknown == set()


def test_log_suites_check_the_model_version_against_the_registry() -> None:
    for name in log_models(PROJECT_ROOT / "models"):
        if name not in SPECS or name not in LOG_SUITES:
            continue  # not an inference log; a missing suite fails test_every_log_model_has_a_suite_and_is_validated
        suite = load_suite(SUITES / f"{name}.json")
        version_sets = [
            e["kwargs"]["value_set"]
            for e in suite["expectations"]
            if e["type"] == "expect_column_values_to_be_in_set" and e["kwargs"]["column"] == "model_version"
        ]
        assert any(isinstance(v, dict) and v["$PARAMETER"].startswith(PARAMETER_PREFIX) for v in version_sets), name
        assert set(METADATA_COLUMNS) <= set(declared_columns(suite))


def test_a_scaffolded_log_suite_covers_its_schema_and_checks_versions_per_model() -> None:
    from mrs.insights.schema import PRODUCT_INSIGHTS_LOG
    from mrs.quality.suites import log_suite_expectations

    one = {
        "expectations": log_suite_expectations(
            PRODUCT_INSIGHTS_LOG.schema, ["product_insights"], PRODUCT_INSIGHTS_LOG.key_columns
        )
    }
    assert declared_columns(one) == PRODUCT_INSIGHTS_LOG.schema.names
    assert not_null_columns(one) >= {f.name for f in PRODUCT_INSIGHTS_LOG.schema if not f.nullable}
    assert parameters_used(one) == {"registered_versions_product_insights"}

    several = {"expectations": log_suite_expectations(PRODUCT_INSIGHTS_LOG.schema, ["baseline", "cluster_model"])}
    conditions = [
        (e["kwargs"]["row_condition"]["parameter"], e["kwargs"]["value_set"]["$PARAMETER"])
        for e in several["expectations"]
        if "row_condition" in e["kwargs"]
    ]
    assert conditions == [("baseline", "registered_versions_baseline"), ("cluster_model", "registered_versions_cluster_model")]
