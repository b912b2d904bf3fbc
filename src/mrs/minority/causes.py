"""attribution_model v1: ranks the candidate causes of a detected event from its evidence.

The evidence of an event (store, SKU, window) is what overlaps it in the data, never the
narratives: campaigns of the store's retailer whose region, category and SKU (when set) are the
event's and whose dates meet its window (count, largest discount, whether one names the SKU),
and context events of each type (weather, local event, holiday, supply disruption) whose region
and store (when set) are the event's (store-level and region-level counts, largest severity).
Each kind of evidence also says when it happened against the event: how many days its nearest
start is from the event's start, and how many days the longest of them runs past the event's end
(a storm or a festival ends with its dip or spike; a competitor's opening or a supplier's cut
runs on). With the event's direction, its shape (:mod:`mrs.minority.shapes`) and its SKU's
category, a multinomial gradient-boosted model (scikit-learn) trained on the simulated narratives' causes
gives a probability per cause type: the ranking. The top cause's probability is the confidence;
an event with no overlapping evidence, or whose top probability is under ``min_confidence``, is
"unexplained". The evidence rows (campaign and event ids) stay linked to the event.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from mrs.minority.classifier import gradient_boosting

if TYPE_CHECKING:  # pragma: no cover
    from pandas.core.groupby import DataFrameGroupBy
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
EVIDENCE_KINDS: tuple[str, ...] = ("campaign", *EVENT_TYPES)
TIMING_FEATURES: tuple[str, ...] = tuple(f"{k}_{t}" for k in EVIDENCE_KINDS for t in ("start_gap_days", "days_past_end"))
"""Per kind of evidence: days from the event's start to the nearest start of an overlapping record,
and the most days one of them runs past the event's end; NaN where the event has none of that kind."""
NO_RECORD_DAYS = 999.0
"""How far away (in days) a kind of evidence the event has none of reads, in the model's features."""
FEATURES: tuple[str, ...] = (
    EVIDENCE_FEATURES + ("sign", "log_duration", "ramp", "level", "open") + tuple(f"category_{c}" for c in CATEGORIES)
)
"""The features of attribution_model version 1."""
FEATURES_WITH_TIMING: tuple[str, ...] = FEATURES + TIMING_FEATURES
"""The features of attribution_model version 2 (and of what ``mrs train attribution_model`` fits now)."""


def _frame(table: pa.Table, columns: list[str]) -> pd.DataFrame:
    return table.select(columns).to_pandas(date_as_object=False)


def _matches(scope: pd.Series, value: pd.Series) -> pd.Series:
    """A scope column matches when it is unset, or equal to the event's value (a null value
    matches no set scope, as in SQL)."""
    return scope.isna() | (scope == value)


def _overlaps(pairs: pd.DataFrame) -> pd.Series:
    return (pairs["start_date"] <= pairs["window_end"]) & (pairs["end_date"] >= pairs["window_start"])


def _timing(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per overlapping (event, record) pair: |record start - event start| and record end - event end, in days."""
    return pairs.assign(
        start_gap=(pairs["start_date"] - pairs["window_start"]).dt.days.abs().astype(np.float64),
        past_end=(pairs["end_date"] - pairs["window_end"]).dt.days.astype(np.float64),
    )


def _timing_hits(kind: str, hits: DataFrameGroupBy) -> dict[str, pd.Series]:
    """A kind's two timing columns from its grouped overlapping pairs: the nearest start, the longest run past the end."""
    return {f"{kind}_start_gap_days": hits["start_gap"].min(), f"{kind}_days_past_end": hits["past_end"].max()}


def _no_timing(kind: str) -> dict[str, float]:
    """A kind's timing columns for an event with none of its records: NaN (see :func:`cause_features`)."""
    return {f"{kind}_start_gap_days": np.nan, f"{kind}_days_past_end": np.nan}


def evidence(events: pa.Table, stores: pa.Table, skus: pa.Table, campaigns: pa.Table, context_events: pa.Table) -> pd.DataFrame:
    """One row of evidence per event (event_row, store_id, sku_id, window_start, window_end), in
    event_row order: the overlapping campaigns (count, largest discount, whether one names the
    SKU, whether one starts inside the window, their ids) and, per context event type, the
    overlapping events (store-level and region-level counts, largest severity, whether one starts
    inside the window, their ids). A pure function of the frames: no engine needed."""
    detected = (
        _frame(events, ["event_row", "store_id", "sku_id", "window_start", "window_end"])
        .merge(_frame(stores, ["store_id", "retailer", "region"]), on="store_id", how="left")
        .merge(_frame(skus, ["sku_id", "category"]), on="sku_id", how="left")
        .sort_values("event_row", kind="stable")
        .reset_index(drop=True)
    )
    out = detected[["event_row", "category"]].copy()

    offers = _frame(
        campaigns, ["campaign_id", "retailer", "region", "category", "sku_id", "start_date", "end_date", "discount_pct"]
    )
    pairs = detected.dropna(subset=["retailer"]).merge(
        offers.dropna(subset=["retailer"]), on="retailer", suffixes=("", "_campaign")
    )
    pairs = pairs[
        _matches(pairs["region_campaign"], pairs["region"])
        & _matches(pairs["category_campaign"], pairs["category"])
        & _matches(pairs["sku_id_campaign"], pairs["sku_id"])
        & _overlaps(pairs)
    ]
    campaign_hits = (
        _timing(pairs)
        .assign(
            names_sku=pairs["sku_id_campaign"].notna().astype(np.int64),
            starts_in=(pairs["start_date"] >= pairs["window_start"]).astype(np.int64),
        )
        .groupby("event_row")
    )
    hits = pd.DataFrame(
        {
            "campaigns": campaign_hits.size(),
            "campaign_max_discount": campaign_hits["discount_pct"].max(),
            "campaign_names_sku": campaign_hits["names_sku"].max(),
            "campaign_starts_in_window": campaign_hits["starts_in"].max(),
            **_timing_hits("campaign", campaign_hits),
            "campaign_ids": campaign_hits["campaign_id"].agg(sorted),
        }
    )
    out = _with_hits(
        out,
        hits,
        {
            "campaigns": 0,
            "campaign_max_discount": 0.0,
            "campaign_names_sku": 0,
            "campaign_starts_in_window": 0,
            **_no_timing("campaign"),
        },
    )

    happenings = _frame(context_events, ["event_id", "event_type", "region", "store_id", "start_date", "end_date", "severity"])
    # an event with a region meets the detections of that region; one without, every detection
    regional = happenings.dropna(subset=["region"])
    pairs = pd.concat(
        [
            detected.merge(happenings[happenings["region"].isna()], how="cross", suffixes=("", "_event")),
            detected.dropna(subset=["region"]).merge(
                regional.assign(region_event=regional["region"]), on="region", suffixes=("", "_event")
            ),
        ],
        ignore_index=True,
    )
    pairs = pairs[_matches(pairs["store_id_event"], pairs["store_id"]) & _overlaps(pairs)]
    for t in EVENT_TYPES:
        of_type = pairs[pairs["event_type"] == t]
        at_store = of_type["store_id_event"].notna().astype(np.int64)
        event_hits = (
            _timing(of_type)
            .assign(
                at_store=at_store,
                in_region=1 - at_store,
                starts_in=(of_type["start_date"] >= of_type["window_start"]).astype(np.int64),
            )
            .groupby("event_row")
        )
        hits = pd.DataFrame(
            {
                f"{t}_store_events": event_hits["at_store"].sum(),
                f"{t}_region_events": event_hits["in_region"].sum(),
                f"{t}_max_severity": event_hits["severity"].max(),
                f"{t}_starts_in_window": event_hits["starts_in"].max(),
                **_timing_hits(t, event_hits),
                f"{t}_event_ids": event_hits["event_id"].agg(sorted),
            }
        )
        out = _with_hits(
            out,
            hits,
            {
                f"{t}_store_events": 0,
                f"{t}_region_events": 0,
                f"{t}_max_severity": 0.0,
                f"{t}_starts_in_window": 0,
                **_no_timing(t),
            },
        )
    return out


def _with_hits(out: pd.DataFrame, hits: pd.DataFrame, zeros: dict[str, float]) -> pd.DataFrame:
    """``out`` with the per-event ``hits`` beside it: an event without hits gets zeros and empty id lists."""
    merged = out.merge(hits, left_on="event_row", right_index=True, how="left")
    for column, zero in zeros.items():
        merged[column] = merged[column].fillna(zero).astype(type(zero))
    for column in (c for c in hits.columns if c.endswith("_ids")):
        merged[column] = [ids if isinstance(ids, list) else [] for ids in merged[column]]
    return merged


def cause_features(evidence_frame: pd.DataFrame, shapes: pd.DataFrame) -> pd.DataFrame:
    """:data:`FEATURES_WITH_TIMING` (every version's features) from the evidence and the events'
    shape features (same row order); a model reads the columns it was fitted on. A kind of
    evidence the event has none of reads as :data:`NO_RECORD_DAYS` away: its start gap that
    many days, its days past the end minus that many (a column the booster could bin: scikit-learn
    cannot bin a training column that is all NaN)."""
    out = evidence_frame[list(EVIDENCE_FEATURES + TIMING_FEATURES)].astype(np.float64).reset_index(drop=True)
    for column in TIMING_FEATURES:
        far = NO_RECORD_DAYS if column.endswith("_start_gap_days") else -NO_RECORD_DAYS
        out[column] = out[column].fillna(far)
    for col in ("sign", "log_duration", "ramp", "level", "open"):
        out[col] = shapes[col].to_numpy(np.float64)
    for c in CATEGORIES:
        out[f"category_{c}"] = (evidence_frame["category"].to_numpy() == c).astype(np.float64)
    return out[list(FEATURES_WITH_TIMING)]


@dataclass(frozen=True)
class CauseConfig:
    max_iter: int = 200
    learning_rate: float = 0.05
    max_leaf_nodes: int = 15
    #: 5 since version 2 (10 in version 1): chosen on the validation worlds' true positives of
    #: anomaly_classifier 2 (top-1 0.974 at 10, 0.982 at 5, with the timing features)
    min_samples_leaf: int = 5
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
    #: the columns of :func:`cause_features` the booster was fitted on (version 1's artefact,
    #: pickled before this field existed, reads the class default: :data:`FEATURES`)
    features: tuple[str, ...] = FEATURES

    @classmethod
    def fit(
        cls, features: pd.DataFrame, causes: np.ndarray, config: CauseConfig, columns: tuple[str, ...] = FEATURES_WITH_TIMING
    ) -> CauseModel:
        booster = gradient_boosting(config)
        booster.fit(features[list(columns)].to_numpy(), np.asarray(causes, dtype=object))
        return cls(config=config, booster=booster, features=columns)

    def rank(self, features: pd.DataFrame) -> pd.DataFrame:
        """cause_type (top), confidence, and the full ranking as ``cause_ranking`` (types by probability)."""
        if features.empty:
            return pd.DataFrame({"cause_type": [], "confidence": [], "cause_ranking": []})
        proba = self.booster.predict_proba(features[list(self.features)].to_numpy())
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
