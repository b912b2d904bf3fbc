"""The Arrow schemas of the lifecycle logs, declared once, and the helpers that type their rows.

* ``model_registry_log``, ``model_approval_log`` and ``model_activation_log`` are records about
  model versions, not inferences: each has its own explicit schema below (``model_activation_log``
  is ``model_activation_gate``'s rows plus how and when the build finished).
* ``model_monitoring_log`` and ``model_retrain_event_log`` are about one model version each, so
  they are :class:`~mrs.logs.LogSpec` logs and carry the usual inference metadata (the monitored
  version's ``model_name``, ``model_version``, ``trained_on`` … and ``scored_at`` = evaluated at).

The dbt YAML (``models/ml/lifecycle/_lifecycle__models.yml``) documents exactly these columns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from mrs.logs import NULL_TOKEN, LogSchemaError, LogSpec, hash_sql, quote, unlogged

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")

REGISTRY_LOG = pa.schema(
    [
        pa.field("log_id", pa.string(), nullable=False),
        pa.field("model_name", pa.string(), nullable=False),
        pa.field("model_version", pa.string(), nullable=False),
        pa.field("model_kind", pa.string(), nullable=False),
        pa.field("trained_on", pa.date32(), nullable=False),
        pa.field("model_registry_source", pa.string(), nullable=False),
        pa.field("model_confidence_metric", pa.float64(), nullable=False),
        pa.field("description", pa.string(), nullable=False),
        pa.field("entry_fingerprint", pa.string(), nullable=False),
        pa.field("artifact_uri", pa.string()),
        pa.field("artifact_sha256", pa.string()),
        pa.field("dataset_fingerprint", pa.string()),
        pa.field("training_rows", pa.int64()),
        pa.field("data_start", pa.date32()),
        pa.field("data_end", pa.date32()),
        pa.field("features", pa.list_(pa.string()), nullable=False),
        pa.field("parameters", pa.string(), nullable=False),
        pa.field("metrics", pa.string(), nullable=False),
        pa.field("validation_wape", pa.float64()),
        pa.field("holdout_wape", pa.float64()),
        pa.field("holdout_mase", pa.float64()),
        pa.field("holdout_relative_mae", pa.float64()),
        pa.field("reference_distributions", pa.string()),
        pa.field("retrain_event_ids", pa.list_(pa.string()), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("registered_at", UTC_TIMESTAMP, nullable=False),
    ]
)
"""One row per model version the first time a build sees it (version 0 from the package, trained
versions from their manifests). Rows never change; a changed artefact under an existing version
would be a second row, which the registry's dbt test and the activation gate reject."""

APPROVAL_LOG = pa.schema(
    [
        pa.field("log_id", pa.string(), nullable=False),
        pa.field("approval_id", pa.string(), nullable=False),
        pa.field("model_name", pa.string(), nullable=False),
        pa.field("model_version", pa.string(), nullable=False),
        pa.field("decision", pa.string(), nullable=False),
        pa.field("decided_by", pa.string(), nullable=False),
        pa.field("decided_at", pa.timestamp("us"), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("recorded_at", UTC_TIMESTAMP, nullable=False),
    ]
)
"""Every approval record of the committed approvals file (``seeds/model_approvals.csv``), kept
even if the file were rewritten."""

ACTIVATION_GATE = pa.schema(
    [
        pa.field("log_id", pa.string(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("model_name", pa.string(), nullable=False),
        pa.field("model_version", pa.string(), nullable=False),
        pa.field("active_version_var", pa.string(), nullable=False),
        pa.field("registry_log_id", pa.string(), nullable=False),
        pa.field("approval_id", pa.string(), nullable=False),
        pa.field("model_registry_source", pa.string(), nullable=False),
        pa.field("trained_on", pa.date32(), nullable=False),
        pa.field("activated_at", UTC_TIMESTAMP, nullable=False),
    ]
)
"""``model_activation_gate``: one row per model, the version the running build runs with and the
approval that allowed it (replaced by every build; recorded in the log once the build finishes)."""

ACTIVATION_LOG = pa.schema(
    list(ACTIVATION_GATE)
    + [
        pa.field("build_status", pa.string(), nullable=False),
        pa.field("finished_at", UTC_TIMESTAMP, nullable=False),
    ]
)
"""One row per finished build and model: the gate's row, appended by the build's on-run-end hook
(``record_finished_build``), with how the build ended (``success`` or ``failed``) and when."""

MONITORING_LOG = LogSpec(
    name="model_monitoring_log",
    key_columns=("as_of_date", "signal", "subject", "method"),
    columns=(
        pa.field("as_of_date", pa.date32(), nullable=False),
        pa.field("signal", pa.string(), nullable=False),
        pa.field("subject", pa.string(), nullable=False),
        pa.field("method", pa.string(), nullable=False),
        pa.field("value", pa.float64()),
        pa.field("threshold", pa.float64(), nullable=False),
        pa.field("is_breach", pa.bool_(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("reference_value", pa.float64()),
        pa.field("current_value", pa.float64()),
        pa.field("psi", pa.float64()),
        pa.field("ks_statistic", pa.float64()),
        pa.field("ks_pvalue", pa.float64()),
        pa.field("wasserstein_normed", pa.float64()),
        pa.field("reference_source", pa.string(), nullable=False),
        pa.field("reference_start", pa.date32()),
        pa.field("reference_end", pa.date32()),
        pa.field("current_start", pa.date32(), nullable=False),
        pa.field("current_end", pa.date32(), nullable=False),
        pa.field("reference_rows", pa.int64(), nullable=False),
        pa.field("current_rows", pa.int64(), nullable=False),
        pa.field("evaluation_id", pa.string(), nullable=False),
    ),
)

RETRAIN_EVENT_LOG = LogSpec(
    name="model_retrain_event_log",
    key_columns=("event_id",),
    columns=(
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("trigger", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("breached_signals", pa.list_(pa.string()), nullable=False),
        pa.field("evidence_log_ids", pa.list_(pa.string()), nullable=False),
        pa.field("evaluation_id", pa.string()),
        pa.field("as_of_date", pa.date32(), nullable=False),
        pa.field("age_days", pa.int32(), nullable=False),
        pa.field("proactive_due_on", pa.date32()),
    ),
)

SIGNALS: tuple[str, ...] = ("feature_drift", "residual_drift", "confidence_decay")
STATUSES: tuple[str, ...] = ("ok", "breach", "insufficient_data")
TRIGGERS: tuple[str, ...] = ("reactive", "proactive")


def stable_id(*parts: Any) -> str:
    """md5 over the parts, joined like :func:`mrs.logs.hash_sql` does in SQL (nulls are a token)."""
    text = "|".join(NULL_TOKEN if p is None else str(p) for p in parts)
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def typed_table(rows: Iterable[Mapping[str, Any]], schema: pa.Schema, name: str) -> pa.Table:
    """Rows (dicts) as a table of ``schema``; a missing required value raises
    :class:`~mrs.logs.LogSchemaError` naming the log, the column and the rows."""
    rows = list(rows)
    table = pa.Table.from_pylist(rows, schema=schema.remove_metadata()) if rows else schema.empty_table()
    for f in schema:
        column = table.column(f.name)
        if not f.nullable and column.null_count:
            where = pc.indices_nonzero(pc.is_null(column)).to_pylist()[:10]
            raise LogSchemaError(f"{name}.{f.name}: {column.null_count} null value(s) in a required column, rows {where}")
    return table.cast(schema)


def keep_unlogged(con: duckdb.DuckDBPyConnection, batch: pa.Table, log_relation: str | None, step: str | None = None) -> pa.Table:
    """The rows of a (small) batch whose ``log_id`` is not in the log yet, filtered in DuckDB;
    with ``step`` (the log's name), the counts are logged (mrs.step_log)."""
    from mrs.step_log import timed_step

    with timed_step(step or "lifecycle log") as counts:
        fresh = batch
        if log_relation and batch.num_rows:
            fresh = unlogged(con.from_arrow(batch), log_relation).to_arrow_table().cast(batch.schema)
        counts.rows_in, counts.rows_new = batch.num_rows, fresh.num_rows
    return fresh


def sql_fingerprint(con: duckdb.DuckDBPyConnection, sql: str, columns: Iterable[str]) -> str:
    """Order-independent fingerprint of every row of ``sql`` over ``columns``: the row count and the
    exact integer sum of the rows' md5 hashes (so parallel scans always give the same value)."""
    row_hash = hash_sql([quote(c) for c in columns])
    count, total = con.sql(f"select count(*), coalesce(sum(md5_number_lower({row_hash})), 0) from ({sql})").fetchall()[0]
    return f"rows={count};md5sum={total}"
