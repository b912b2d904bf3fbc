"""model_approval_log: every approval record of seeds/model_approvals.csv, kept append-only."""

from mrs.lifecycle.governance import record_approvals


def model(dbt, session):
    dbt.config(materialized="incremental")
    return record_approvals(
        session,
        dbt.ref("model_approvals"),
        log_relation=str(dbt.this) if dbt.is_incremental else None,
    )
