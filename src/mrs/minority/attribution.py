"""Attribution (the MRPAL, ``attribution_log``): ``propose_cause_for_minority``.

Version "0" of ``attribution_model`` (the MVP) looks the cause up in ``master_narratives``: the
narrative's cause type, cause text and static confidence. Beside it, every row carries the
evidence a learned model would score later, found in the data: the campaigns and the context
events that overlap the anomaly.

* A campaign overlaps when its retailer is the store's, its region (if any) the store's region,
  its category (if any) the SKU's category, its SKU (if any) the SKU, and its dates meet the window.
* A context event overlaps when its region (if any) is the store's region, its store (if any) is
  the store, and its dates meet the window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mrs.logs import ModelCard, score_new_rows
from mrs.minority.config import MinorityConfigError
from mrs.minority.detection import current_detections_sql
from mrs.minority.relations import sql_over
from mrs.minority.schemas import ATTRIBUTION_LOG, with_unset_columns

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

ATTRIBUTION_MODEL_VERSIONS: tuple[str, ...] = ("0",)
"""Built-in attribution versions this module can run ("0": the narrative cause lookup)."""

EVIDENCE_SQL = """
    detected as (
        select
            detections.anomaly_id, detections.store_id, detections.sku_id,
            detections.window_start, detections.window_end,
            stores.retailer, stores.region, skus.category
        from detections
        left join stores on stores.store_id = detections.store_id
        left join skus on skus.sku_id = detections.sku_id
    ),
    campaign_evidence as (
        select detected.anomaly_id, list(campaigns.campaign_id order by campaigns.campaign_id) as evidence_campaign_ids
        from detected
        inner join campaigns
            on campaigns.retailer = detected.retailer
            and (campaigns.region is null or campaigns.region = detected.region)
            and (campaigns.category is null or campaigns.category = detected.category)
            and (campaigns.sku_id is null or campaigns.sku_id = detected.sku_id)
            and campaigns.start_date <= detected.window_end
            and campaigns.end_date >= detected.window_start
        group by detected.anomaly_id
    ),
    event_evidence as (
        select detected.anomaly_id, list(context_events.event_id order by context_events.event_id) as evidence_event_ids
        from detected
        inner join context_events
            on (context_events.region is null or context_events.region = detected.region)
            and (context_events.store_id is null or context_events.store_id = detected.store_id)
            and context_events.start_date <= detected.window_end
            and context_events.end_date >= detected.window_start
        group by detected.anomaly_id
    )
"""
"""CTEs over ``detections`` (anomaly_id, store_id, sku_id, window_start, window_end) and the
``stores``, ``skus``, ``campaigns`` and ``context_events`` relations: the overlapping evidence."""


def attribution_inputs_sql(classifier_version: str, baseline_version: str) -> str:
    """SQL over ``detection_log``, ``narratives``, ``stores``, ``skus``, ``campaigns`` and
    ``context_events``: one row per current detection with its narrative's cause and its evidence."""
    return f"""
    with detections as (
        {current_detections_sql(classifier_version, baseline_version)}
    ),
    {EVIDENCE_SQL}
    select
        detections.anomaly_id,
        detections.log_id as detection_log_id,
        detections.narrative_id,
        narratives.cause_type,
        narratives.cause,
        narratives.confidence,
        coalesce(campaign_evidence.evidence_campaign_ids, cast([] as varchar[])) as evidence_campaign_ids,
        coalesce(event_evidence.evidence_event_ids, cast([] as varchar[])) as evidence_event_ids
    from detections
    left join narratives on narratives.narrative_id = detections.narrative_id
    left join campaign_evidence on campaign_evidence.anomaly_id = detections.anomaly_id
    left join event_evidence on event_evidence.anomaly_id = detections.anomaly_id
    """


def predict_batch(inputs: pa.Table) -> pa.Table:
    """``propose_cause_for_minority`` over a batch: the narrative's cause and static confidence,
    with the overlapping campaigns and events as evidence and their count."""
    campaigns = inputs.column("evidence_campaign_ids")
    events = inputs.column("evidence_event_ids")
    count = (
        pc.list_value_length(campaigns).to_numpy(zero_copy_only=False)
        + pc.list_value_length(events).to_numpy(zero_copy_only=False)
    ).astype(np.int32)
    return with_unset_columns(pa.table(
        {
            "anomaly_id": inputs.column("anomaly_id"),
            "detection_log_id": inputs.column("detection_log_id"),
            "narrative_id": inputs.column("narrative_id"),
            "cause_type": inputs.column("cause_type"),
            "cause": inputs.column("cause"),
            "confidence": inputs.column("confidence"),
            "evidence_campaign_ids": campaigns,
            "evidence_event_ids": events,
            "evidence_count": pa.array(count, pa.int32()),
        }
    ), ATTRIBUTION_LOG)  # version 0 has no value for the columns version 1 added


def score_attributions(
    con: "duckdb.DuckDBPyConnection",
    *,
    relations: dict[str, "duckdb.DuckDBPyRelation"],
    card: ModelCard,
    classifier_version: str,
    baseline_version: str,
    log_relation: str | None,
) -> pa.Table:
    """The ``attribution_log`` step: new causes for the current detections.

    ``relations`` holds ``detection_log``, ``narratives``, ``stores``, ``skus``, ``campaigns`` and
    ``context_events``.
    """
    if card.model_version not in ATTRIBUTION_MODEL_VERSIONS:
        raise MinorityConfigError(
            f"attribution_model version {card.model_version!r} has no implementation in mrs.minority.attribution "
            f"(built in: {list(ATTRIBUTION_MODEL_VERSIONS)})"
        )
    needed = {"detection_log", "narratives", "stores", "skus", "campaigns", "context_events"}
    if missing := sorted(needed - set(relations)):
        raise MinorityConfigError(f"attribution_log: no relation(s) {missing} were given")
    inputs = sql_over(con, relations, attribution_inputs_sql(classifier_version, baseline_version))
    unknown = inputs.filter("cause is null").project("anomaly_id, narrative_id").limit(10).fetchall()
    if unknown:
        raise MinorityConfigError(
            f"attribution_log: these detections name a narrative that master_narratives does not have, so the "
            f"MVP cause lookup has no cause for them (anomaly_id, narrative_id): {unknown}"
        )
    return score_new_rows(
        inputs,
        spec=ATTRIBUTION_LOG,
        card=card,
        log_relation=log_relation,
        predict=predict_batch,
        confidence_column="confidence",
    )
