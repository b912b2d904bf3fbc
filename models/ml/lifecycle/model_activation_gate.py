"""model_activation_gate: the version of every model this build runs with, and the approval that allowed it.

Replaced by every build; model_activation_log records it once the build has finished
(on-run-end hook record_finished_build)."""

from mrs.lifecycle.governance import parse_active_versions, record_activation


def model(dbt, session):
    dbt.config(materialized="table")  # this build's rows only; the history is model_activation_log
    return record_activation(
        parse_active_versions(dbt.config.get("active_versions")),
        dbt.ref("model_registry_log"),
        dbt.ref("model_approval_log"),
    )
