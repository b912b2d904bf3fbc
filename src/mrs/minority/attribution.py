"""Attribution (the MRPAL, ``attribution_log``): ``propose_cause_for_minority``.

Version "0" of ``attribution_model`` (the MVP) looks the cause up in ``master_narratives``: the
narrative's cause type, cause text and static confidence. Beside it, every row carries the
evidence a learned model would score later, found in the data: the campaigns and the context
events that overlap the anomaly. The dbt model ``int_minority__attribution_inputs`` assembles
both (SQL, where dbt shows the lineage and its macros port it); this module scores them.

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
from mrs.minority.schemas import ATTRIBUTION_LOG, with_unset_columns

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

ATTRIBUTION_MODEL_VERSIONS: tuple[str, ...] = ("0",)
"""Built-in attribution versions this module can run ("0": the narrative cause lookup)."""

INPUT_COLUMNS: tuple[str, ...] = (
    "anomaly_id",
    "detection_log_id",
    "narrative_id",
    "cause_type",
    "cause",
    "confidence",
    "evidence_campaign_ids",
    "evidence_event_ids",
)
"""What version 0 reads: the dbt model ``int_minority__attribution_inputs``, which assembles the
current detections with their narrative's cause and the overlapping campaigns and events."""


def predict_batch(inputs: pa.Table) -> pa.Table:
    """``propose_cause_for_minority`` over a batch: the narrative's cause and static confidence,
    with the overlapping campaigns and events as evidence and their count."""
    campaigns = inputs.column("evidence_campaign_ids")
    events = inputs.column("evidence_event_ids")
    count = (
        pc.list_value_length(campaigns).to_numpy(zero_copy_only=False)
        + pc.list_value_length(events).to_numpy(zero_copy_only=False)
    ).astype(np.int32)
    return with_unset_columns(
        pa.table(
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
        ),
        ATTRIBUTION_LOG,
    )  # version 0 has no value for the columns version 1 added


def score_attributions(
    inputs: duckdb.DuckDBPyRelation,
    *,
    card: ModelCard,
    log_relation: str | None,
) -> pa.Table:
    """The ``attribution_log`` step: new causes for the current detections, over
    ``int_minority__attribution_inputs`` (one row per current detection, :data:`INPUT_COLUMNS`)."""
    if card.model_version not in ATTRIBUTION_MODEL_VERSIONS:
        raise MinorityConfigError(
            f"attribution_model version {card.model_version!r} has no implementation in mrs.minority.attribution "
            f"(built in: {list(ATTRIBUTION_MODEL_VERSIONS)})"
        )
    if missing := [c for c in INPUT_COLUMNS if c not in inputs.columns]:
        raise MinorityConfigError(f"attribution_log: the inputs (int_minority__attribution_inputs) have no column(s) {missing}")
    inputs = inputs.select(*INPUT_COLUMNS)
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
