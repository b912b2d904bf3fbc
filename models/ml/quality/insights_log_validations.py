"""insights_log_validations: every new batch of the product-insights log, validated by its suite.

A batch is the rows one build appended to a log (one run_id). Each batch not validated yet is
pulled alone from the warehouse and run through expectations/gx/expectations/<log>.json; the
per-expectation results are appended to expectation_results_log and one row per batch is returned.
The marts read the log through the `validated_log` macro (passed batches only), and the
`expectations_pass` test on this model fails the build, skipping those marts, when a batch fails.
"""

from mrs.quality.parameters import expectation_parameters
from mrs.quality.validate import sibling_relation, validate_log_batches


def model(dbt, session):
    dbt.config(materialized="incremental")  # required here: folder config does not set it for Python models
    dbt.ref("expectation_results_log")  # built first: the results are appended to it
    return validate_log_batches(
        session,
        logs={"product_insights_log": dbt.ref("product_insights_log")},
        validations=str(dbt.this) if dbt.is_incremental else None,
        results_log=sibling_relation(dbt.this, "expectation_results_log"),
        parameters=expectation_parameters(
            prices=dbt.ref("stg_price_tracker__prices"),
            registry=dbt.ref("model_registry_log"),
        ),
        project_dir=dbt.config.get("gx_project_dir"),
    )
