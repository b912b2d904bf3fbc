"""attribution_model v1: ranks the candidate causes of a detected event from its evidence.

The evidence of an event (store, SKU, window) is what overlaps it in the data, never the
narratives: campaigns of the store's retailer whose region, category and SKU (when set) are the
event's and whose dates meet its window (count, largest discount, whether one names the SKU),
and context events of each type (weather, local event, holiday, supply disruption) whose region
and store (when set) are the event's (store-level and region-level counts, largest severity).
With the event's direction, its shape (:mod:`mrs.minority.shapes`) and its SKU's category, a
multinomial gradient-boosted model (scikit-learn) trained on the simulated narratives' causes
gives a probability per cause type: the ranking. The top cause's probability is the confidence;
an event with no overlapping evidence, or whose top probability is under ``min_confidence``, is
"unexplained". The evidence rows (campaign and event ids) stay linked to the event.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from mrs.minority.classifier import gradient_boosting

if TYPE_CHECKING:  # pragma: no cover
    from sklearn.ensemble import HistGradientBoostingClassifier

CAUSE_TYPES: tuple[str, ...] = ("campaign", "weather", "local_event", "holiday", "supply_disruption", "competitor")
UNEXPLAINED = "unexplained"
EVENT_TYPES: tuple[str, ...] = ("weather", "local_event", "holiday", "supply_disruption")
CATEGORIES: tuple[str, ...] = ("beverages", "snacks", "dairy", "household", "personal_care", "frozen")

EVIDENCE_FEATURES: tuple[str, ...] = (
    "campaigns",
    "campaign_max_discount",
    "campaign_names_sku",
    "campaign_starts_in_window",
    *(f"{t}_{k}" for t in EVENT_TYPES for k in ("store_events", "region_events", "max_severity", "starts_in_window")),
)
FEATURES: tuple[str, ...] = (
    EVIDENCE_FEATURES + ("sign", "log_duration", "ramp", "level", "open") + tuple(f"category_{c}" for c in CATEGORIES)
)

EVIDENCE_SQL = """
with detected as (
    select events.event_row, events.store_id, events.sku_id, events.window_start, events.window_end,
           stores.retailer, stores.region, skus.category
    from events
    left join stores on stores.store_id = events.store_id
    left join skus on skus.sku_id = events.sku_id
),
campaign_hits as (
    select detected.event_row,
        count(*) as campaigns,
        max(campaigns.discount_pct) as campaign_max_discount,
        max(case when campaigns.sku_id is not null then 1 else 0 end) as campaign_names_sku,
        max(case when campaigns.start_date >= detected.window_start then 1 else 0 end) as campaign_starts_in_window,
        list(campaigns.campaign_id order by campaigns.campaign_id) as campaign_ids
    from detected
    inner join campaigns
        on campaigns.retailer = detected.retailer
        and (campaigns.region is null or campaigns.region = detected.region)
        and (campaigns.category is null or campaigns.category = detected.category)
        and (campaigns.sku_id is null or campaigns.sku_id = detected.sku_id)
        and campaigns.start_date <= detected.window_end
        and campaigns.end_date >= detected.window_start
    group by detected.event_row
),
event_hits as (
    select detected.event_row, context_events.event_type,
        sum(case when context_events.store_id is not null then 1 else 0 end) as store_events,
        sum(case when context_events.store_id is null then 1 else 0 end) as region_events,
        max(context_events.severity) as max_severity,
        max(case when context_events.start_date >= detected.window_start then 1 else 0 end) as starts_in_window,
        list(context_events.event_id order by context_events.event_id) as event_ids
    from detected
    inner join context_events
        on (context_events.region is null or context_events.region = detected.region)
        and (context_events.store_id is null or context_events.store_id = detected.store_id)
        and context_events.start_date <= detected.window_end
        and context_events.end_date >= detected.window_start
    group by detected.event_row, context_events.event_type
)
select detected.event_row, detected.category,
    coalesce(c.campaigns, 0) as campaigns,
    coalesce(c.campaign_max_discount, 0) as campaign_max_discount,
    coalesce(c.campaign_names_sku, 0) as campaign_names_sku,
    coalesce(c.campaign_starts_in_window, 0) as campaign_starts_in_window,
    coalesce(c.campaign_ids, cast([] as varchar[])) as campaign_ids,
    {event_columns}
from detected
left join campaign_hits as c on c.event_row = detected.event_row
{event_joins}
order by detected.event_row
"""


def _evidence_sql() -> str:
    cols, joins = [], []
    for t in EVENT_TYPES:
        a = f"e_{t}"
        cols += [
            f"coalesce({a}.store_events, 0) as {t}_store_events",
            f"coalesce({a}.region_events, 0) as {t}_region_events",
            f"coalesce({a}.max_severity, 0) as {t}_max_severity",
            f"coalesce({a}.starts_in_window, 0) as {t}_starts_in_window",
            f"coalesce({a}.event_ids, cast([] as varchar[])) as {t}_event_ids",
        ]
        joins.append(f"left join event_hits as {a} on {a}.event_row = detected.event_row and {a}.event_type = '{t}'")
    return EVIDENCE_SQL.format(event_columns=",\n    ".join(cols), event_joins="\n".join(joins))


def evidence(events: pa.Table, stores: pa.Table, skus: pa.Table, campaigns: pa.Table, context_events: pa.Table) -> pd.DataFrame:
    """One row of evidence per event (event_row, store_id, sku_id, window_start, window_end)."""
    con = duckdb.connect()
    try:
        for name, table in {
            "events": events,
            "stores": stores,
            "skus": skus,
            "campaigns": campaigns,
            "context_events": context_events,
        }.items():
            con.register(name, table)
        return con.sql(_evidence_sql()).to_df()
    finally:
        con.close()


def cause_features(evidence_frame: pd.DataFrame, shapes: pd.DataFrame) -> pd.DataFrame:
    """:data:`FEATURES` from the evidence and the events' shape features (same row order)."""
    out = evidence_frame[list(EVIDENCE_FEATURES)].astype(np.float64).reset_index(drop=True)
    for col in ("sign", "log_duration", "ramp", "level", "open"):
        out[col] = shapes[col].to_numpy(np.float64)
    for c in CATEGORIES:
        out[f"category_{c}"] = (evidence_frame["category"].to_numpy() == c).astype(np.float64)
    return out[list(FEATURES)]


@dataclass(frozen=True)
class CauseConfig:
    max_iter: int = 200
    learning_rate: float = 0.05
    max_leaf_nodes: int = 15
    min_samples_leaf: int = 10
    l2_regularization: float = 1.0
    random_state: int = 0
    #: a top cause less probable than this is "unexplained"
    min_confidence: float = 0.35

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class CauseModel:
    config: CauseConfig
    booster: HistGradientBoostingClassifier

    @classmethod
    def fit(cls, features: pd.DataFrame, causes: np.ndarray, config: CauseConfig) -> CauseModel:
        booster = gradient_boosting(config)
        booster.fit(features[list(FEATURES)].to_numpy(), np.asarray(causes, dtype=object))
        return cls(config=config, booster=booster)

    def rank(self, features: pd.DataFrame) -> pd.DataFrame:
        """cause_type (top), confidence, and the full ranking as ``cause_ranking`` (types by probability)."""
        if features.empty:
            return pd.DataFrame({"cause_type": [], "confidence": [], "cause_ranking": []})
        proba = self.booster.predict_proba(features[list(FEATURES)].to_numpy())
        classes = np.asarray(self.booster.classes_, dtype=object)
        order = np.argsort(-proba, axis=1)
        top = proba[np.arange(len(proba)), order[:, 0]]
        has_evidence = (
            features[[c for c in EVIDENCE_FEATURES if c.endswith(("campaigns", "_events"))]].sum(axis=1) > 0
        ).to_numpy()
        credible = has_evidence & (top >= self.config.min_confidence)
        return pd.DataFrame(
            {
                "cause_type": np.where(credible, classes[order[:, 0]], UNEXPLAINED),
                "confidence": top,
                "cause_ranking": [list(classes[o]) for o in order],
            }
        )
