"""lifecycle_log_validations: every new batch of the five model-lifecycle logs, validated by each
log's suite (see insights_log_validations for how a batch is validated and what gates what)."""

from mrs.quality.parameters import expectation_parameters
from mrs.quality.validate import sibling_relation, validate_log_batches


def model(dbt, session):
    dbt.config(materialized="incremental")  # required here: folder config does not set it for Python models
    dbt.ref("expectation_results_log")  # built first: the results are appended to it
    return validate_log_batches(
        session,
        logs={
            "model_registry_log": dbt.ref("model_registry_log"),
            "model_approval_log": dbt.ref("model_approval_log"),
            "model_activation_log": dbt.ref("model_activation_log"),
            "model_monitoring_log": dbt.ref("model_monitoring_log"),
            "model_retrain_event_log": dbt.ref("model_retrain_event_log"),
        },
        validations=str(dbt.this) if dbt.is_incremental else None,
        results_log=sibling_relation(dbt.this, "expectation_results_log"),
        parameters=expectation_parameters(registry=dbt.ref("model_registry_log")),
        project_dir=dbt.config.get("gx_project_dir"),
    )
