"""The Arrow schemas of the validation tables, declared once.

``expectation_results_log`` holds one row per expectation evaluated on one batch;
the validation steps (``<domain>_log_validations``, ``mart_validations``) hold one row per suite run on one batch. The
YAML in ``models/ml/quality/_quality__models.yml`` documents the same columns.
"""

from __future__ import annotations

import pyarrow as pa

BATCH_FIELDS: tuple[pa.Field, ...] = (
    pa.field("run_id", pa.string(), nullable=False),
    pa.field("validated_at", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("suite_name", pa.string(), nullable=False),
    pa.field("relation_kind", pa.string(), nullable=False),
    pa.field("batch_run_id", pa.string(), nullable=False),
    pa.field("batch_row_count", pa.int64(), nullable=False),
)
"""What both tables say about a suite run: the validating build, the suite, the validated batch."""

RESULTS_LOG_SCHEMA = pa.schema(
    [
        pa.field("result_id", pa.string(), nullable=False),
        *BATCH_FIELDS,
        pa.field("expectation_id", pa.string(), nullable=False),
        pa.field("expectation_type", pa.string(), nullable=False),
        pa.field("column_name", pa.string()),
        pa.field("expectation", pa.string(), nullable=False),
        pa.field("expectation_kwargs", pa.string(), nullable=False),
        pa.field("success", pa.bool_(), nullable=False),
        pa.field("observed_value", pa.string()),
        pa.field("element_count", pa.int64()),
        pa.field("unexpected_count", pa.int64()),
        pa.field("unexpected_percent", pa.float64()),
        pa.field("unexpected_examples", pa.string()),
        pa.field("exception_message", pa.string()),
        pa.field("data_docs_page", pa.string()),
        pa.field("great_expectations_version", pa.string(), nullable=False),
    ]
)
"""``expectation_results_log``: one row per expectation × validated batch."""

VALIDATIONS_SCHEMA = pa.schema(
    [
        pa.field("validation_id", pa.string(), nullable=False),
        *BATCH_FIELDS,
        pa.field("evaluated_expectations", pa.int32(), nullable=False),
        pa.field("failed_expectations", pa.int32(), nullable=False),
        pa.field("success", pa.bool_(), nullable=False),
        pa.field("failures", pa.string()),
        pa.field("data_docs_page", pa.string()),
        pa.field("batch_fingerprint", pa.string()),
    ]
)
"""The validation steps' tables: one row per suite × validated batch (``batch_fingerprint``: a
mart's content fingerprint, so an unchanged mart is not validated again; null for log batches)."""


def empty(schema: pa.Schema) -> pa.Table:
    """A typed table without rows (what a step returns when there is nothing to validate)."""
    return schema.empty_table()
