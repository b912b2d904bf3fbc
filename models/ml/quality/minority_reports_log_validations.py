"""minority_reports_log_validations: every new batch of the four minority-report logs, validated by
each log's suite (see insights_log_validations for how a batch is validated and what gates what)."""

from mrs.quality.parameters import expectation_parameters
from mrs.quality.validate import sibling_relation, validate_log_batches


def model(dbt, session):
    dbt.config(materialized="incremental")  # required here: folder config does not set it for Python models
    dbt.ref("expectation_results_log")  # built first: the results are appended to it
    return validate_log_batches(
        session,
        logs={
            "baseline_log": dbt.ref("baseline_log"),
            "detection_log": dbt.ref("detection_log"),
            "cluster_log": dbt.ref("cluster_log"),
            "attribution_log": dbt.ref("attribution_log"),
        },
        validations=str(dbt.this) if dbt.is_incremental else None,
        results_log=sibling_relation(dbt.this, "expectation_results_log"),
        parameters=expectation_parameters(
            sales=dbt.ref("unified_sales_data"),
            narratives=dbt.ref("stg_narratives__narratives"),
            registry=dbt.ref("model_registry_log"),
        ),
        project_dir=dbt.config.get("gx_project_dir"),
    )
