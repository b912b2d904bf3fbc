"""attribution_log (MRPAL): a proposed cause with evidence per current detection, from the active `attribution_model`."""

from mrs.lifecycle.governance import resolve_active
from mrs.lifecycle.registry import TRAINED
from mrs.logs import add_missing_log_columns
from mrs.minority.attribution import score_attributions
from mrs.minority.schemas import ATTRIBUTION_LOG
from mrs.minority.scoring_v1 import score_attributions_v1


def model(dbt, session):
    dbt.config(materialized="incremental")
    active = resolve_active(
        "attribution_model", dbt.config.get("active_version"), dbt.ref("model_registry_log"), dbt.ref("model_approval_log")
    )
    log_relation = str(dbt.this) if dbt.is_incremental else None
    # a log built before a column was declared gets it now (ALTER TABLE; no row rewritten)
    add_missing_log_columns(session, log_relation, ATTRIBUTION_LOG.schema)
    if active.kind == TRAINED:  # v1: ranks causes from the evidence; never reads the narratives
        return score_attributions_v1(
            session,
            active=active,
            detections=dbt.ref("int_minority__current_detections"),
            scored_periods=dbt.ref("int_minority__scored_periods"),
            campaigns=dbt.ref("stg_marketing__campaigns"),
            context_events=dbt.ref("stg_context__events"),
            log_relation=log_relation,
        )
    # v0: the narrative's cause, with the overlapping campaigns and events as evidence
    return score_attributions(dbt.ref("int_minority__attribution_inputs"), card=active.card, log_relation=log_relation)
