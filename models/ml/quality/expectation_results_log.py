"""expectation_results_log: one row per expectation evaluated on one batch (append-only).

This model only declares the table (schema: mrs.quality.schemas.RESULTS_LOG_SCHEMA) and appends
nothing itself: the validation steps - <domain>_log_validations (before the marts) and
mart_validations (after them) - append their results to it, so a failed log batch is recorded here
even when the failure skips the marts and everything after them.
"""

from mrs.quality.schemas import RESULTS_LOG_SCHEMA, empty


def model(dbt, session):
    dbt.config(materialized="incremental")  # required here: folder config does not set it for Python models
    return empty(RESULTS_LOG_SCHEMA)
