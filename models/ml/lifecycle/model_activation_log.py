"""model_activation_log: the version of every model this build runs with, and the approval that allowed it."""

from mrs.lifecycle.governance import parse_active_versions, record_activation


def model(dbt, session):
    dbt.config(materialized="incremental")
    return record_activation(
        parse_active_versions(dbt.config.get("active_versions")),
        dbt.ref("model_registry_log"),
        dbt.ref("model_approval_log"),
    )
