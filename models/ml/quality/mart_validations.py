"""mart_validations: every mart this build changed, as it published it, validated by the mart's suite.

Runs after the marts; appends the per-expectation results to expectation_results_log, publishes
each mart that passed as Parquet for BI (mrs.publish: atomic rename into the `publish_dir` config)
and returns one row per validated mart. A mart whose content fingerprint equals that of its latest
passed validation is not validated again (a build that changed nothing validates nothing). The
`expectations_pass` test on this model fails the build when a mart fails its
suite. Every mart must be listed here (tests/test_expectations_suites.py checks it).
"""

from mrs.publish import publish_dir
from mrs.quality.parameters import expectation_parameters
from mrs.quality.validate import sibling_relation, validate_marts


def model(dbt, session):
    dbt.config(materialized="incremental")  # required here: folder config does not set it for Python models
    dbt.ref("expectation_results_log")  # built first: the results are appended to it
    return validate_marts(
        session,
        marts={
            "product_insights": dbt.ref("product_insights"),
            "minority_reports": dbt.ref("minority_reports"),
            "daily_sales_vs_baseline": dbt.ref("daily_sales_vs_baseline"),
            "model_versions": dbt.ref("model_versions"),
            "anomaly_reviews": dbt.ref("anomaly_reviews"),
            "input_quarantine_summary": dbt.ref("input_quarantine_summary"),
        },
        validations=str(dbt.this) if dbt.is_incremental else None,
        results_log=sibling_relation(dbt.this, "expectation_results_log"),
        parameters=expectation_parameters(
            prices=dbt.ref("stg_price_tracker__prices"),
            sales=dbt.ref("unified_sales_data"),
            products=dbt.ref("stg_price_tracker__products"),
            narratives=dbt.ref("stg_narratives__narratives"),
            registry=dbt.ref("model_registry_log"),
        ),
        project_dir=dbt.config.get("gx_project_dir"),
        publish_to=publish_dir(dbt.config.get("publish_dir"), dbt.config.get("dbt_project_dir")),
    )
