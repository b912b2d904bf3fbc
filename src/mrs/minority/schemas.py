"""The Arrow schemas of the four minority-report logs, declared once.

Each :class:`~mrs.logs.LogSpec` lists the log's own columns (business key first); the metadata
columns of :data:`mrs.logs.METADATA_FIELDS` follow them in the table. The dbt YAML
(``models/ml/minority_reports/_minority_reports__models.yml``) documents exactly these columns.
"""

from __future__ import annotations

import pyarrow as pa

from mrs.logs import LogSpec

BASELINE_LOG = LogSpec(
    name="baseline_log",
    key_columns=("store_id", "sku_id", "sales_date"),
    columns=(
        pa.field("store_id", pa.string(), nullable=False),
        pa.field("sku_id", pa.string(), nullable=False),
        pa.field("sales_date", pa.date32(), nullable=False),
        pa.field("day_of_week", pa.int32(), nullable=False),
        pa.field("in_anomaly_window", pa.bool_(), nullable=False),
        pa.field("actual_units", pa.int64(), nullable=False),
        pa.field("expected_units", pa.float64(), nullable=False),
        pa.field("residual_units", pa.float64(), nullable=False),
        pa.field("same_weekday_median", pa.float64(), nullable=False),
        pa.field("same_weekday_weeks", pa.int32(), nullable=False),
        pa.field("trend_factor", pa.float64(), nullable=False),
        pa.field("trend_days", pa.int32(), nullable=False),
        # what the batch that wrote the row read (mrs.minority.baseline.batch_fingerprint): a build
        # whose batch would read the same does not score again; null on trained versions' rows and
        # on rows written before the column existed (an older warehouse gets it by ALTER TABLE)
        pa.field("batch_fingerprint", pa.string(), nullable=True),
    ),
)

DETECTION_LOG = LogSpec(
    name="detection_log",
    key_columns=("anomaly_id",),
    columns=(
        pa.field("anomaly_id", pa.string(), nullable=False),
        pa.field("narrative_id", pa.string(), nullable=True),  # null on learned (v1) rows: no narrative is read
        pa.field("store_id", pa.string(), nullable=False),
        pa.field("sku_id", pa.string(), nullable=False),
        pa.field("window_start", pa.date32(), nullable=False),
        pa.field("window_end", pa.date32(), nullable=False),
        pa.field("window_days", pa.int32(), nullable=False),
        pa.field("direction", pa.string(), nullable=False),
        pa.field("magnitude", pa.float64(), nullable=False),
        pa.field("actual_units", pa.int64(), nullable=False),
        pa.field("expected_units", pa.float64(), nullable=False),
        pa.field("residual_units", pa.float64(), nullable=False),
        pa.field("relative_deviation", pa.float64(), nullable=True),
        pa.field("z_score", pa.float64(), nullable=True),
        pa.field("training_residual_sd", pa.float64(), nullable=True),
        pa.field("training_days", pa.int32(), nullable=False),
        pa.field("observed_direction", pa.string(), nullable=False),
        pa.field("peak_date", pa.date32(), nullable=False),
        pa.field("peak_ratio", pa.float64(), nullable=True),
        pa.field("daily_actual_units", pa.list_(pa.int64()), nullable=False),
        pa.field("daily_expected_units", pa.list_(pa.float64()), nullable=False),
        pa.field("baseline_model_version", pa.string(), nullable=False),
        pa.field("baseline_log_ids", pa.list_(pa.string()), nullable=False),
        # added with version 1, for every version (null on version 0's rows; an older warehouse
        # gets them by ALTER TABLE, mrs.logs.add_missing_log_columns)
        pa.field("found_on", pa.string(), nullable=True),
        # what the scan that found the row read (mrs.minority.scoring_v1.scan_fingerprint): a build
        # whose scan would read the same does not scan again; null on version 0's rows
        pa.field("scan_fingerprint", pa.string(), nullable=True),
    ),
)

CLUSTER_LOG = LogSpec(
    name="cluster_log",
    key_columns=("anomaly_id",),
    columns=(
        pa.field("anomaly_id", pa.string(), nullable=False),
        pa.field("detection_log_id", pa.string(), nullable=False),
        pa.field("narrative_id", pa.string(), nullable=True),  # null on learned (v1) rows: no narrative is read
        pa.field("cluster_name", pa.string(), nullable=False),
        pa.field("similarity_score", pa.float64(), nullable=False),
        pa.field("cluster_size", pa.int32(), nullable=False),
        pa.field("shape_vector", pa.list_(pa.float64()), nullable=False),
        pa.field("peak_position", pa.float64(), nullable=False),
        pa.field("duration_days", pa.int32(), nullable=False),
        pa.field("residual_sign", pa.int8(), nullable=False),
        # added with version 1, for every version (null on version 0's rows)
        pa.field("cluster_id", pa.int32(), nullable=True),
        pa.field("is_noise", pa.bool_(), nullable=True),
        pa.field("incident_detections", pa.list_(pa.string()), nullable=True),
    ),
)

ATTRIBUTION_LOG = LogSpec(
    name="attribution_log",
    key_columns=("anomaly_id",),
    columns=(
        pa.field("anomaly_id", pa.string(), nullable=False),
        pa.field("detection_log_id", pa.string(), nullable=False),
        pa.field("narrative_id", pa.string(), nullable=True),  # null on learned (v1) rows: no narrative is read
        pa.field("cause_type", pa.string(), nullable=False),
        pa.field("cause", pa.string(), nullable=False),
        pa.field("confidence", pa.float64(), nullable=False),
        pa.field("evidence_campaign_ids", pa.list_(pa.string()), nullable=False),
        pa.field("evidence_event_ids", pa.list_(pa.string()), nullable=False),
        pa.field("evidence_count", pa.int32(), nullable=False),
        # added with version 1, for every version (null on version 0's rows)
        pa.field("cause_ranking", pa.list_(pa.string()), nullable=True),
        pa.field("incident_detections", pa.list_(pa.string()), nullable=True),
    ),
)

MINORITY_LOGS: tuple[LogSpec, ...] = (BASELINE_LOG, DETECTION_LOG, CLUSTER_LOG, ATTRIBUTION_LOG)

V1_COLUMNS: dict[str, tuple[str, ...]] = {
    "detection_log": ("found_on", "scan_fingerprint"),
    "cluster_log": ("cluster_id", "is_noise", "incident_detections"),
    "attribution_log": ("cause_ranking", "incident_detections"),
}
"""The columns version 1 added to each log (declared above for every version)."""


def with_unset_columns(outputs: pa.Table, spec: LogSpec) -> pa.Table:
    """``outputs`` with every column of ``spec`` it lacks added as nulls: a version that has no
    value for a column another version added (version 0 and :data:`V1_COLUMNS`)."""
    for field in spec.columns:
        if field.name not in outputs.column_names:
            if not field.nullable:
                raise ValueError(f"{spec.name}: column {field.name!r} is not nullable and has no value")
            outputs = outputs.append_column(field.name, pa.nulls(outputs.num_rows, field.type))
    return outputs
