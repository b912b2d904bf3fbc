"""Governance: approval records, the activation gate and the activation history.

* **Approvals live in git.** ``mrs approve MODEL VERSION --by NAME --reason TEXT`` (and
  ``mrs reject``) append one row to the committed, append-only ``seeds/model_approvals.csv``, so a
  decision is reviewed like code. dbt loads the file as a seed and ``model_approval_log`` keeps
  every record it has ever seen. ``decided_at`` is the one wall-clock value: metadata of the
  decision, never an input of a model.
* **The gate.** :func:`require_active` is what every scoring model calls before it scores: the
  version ``vars.active_model_versions`` names must be registered (``model_registry_log``) and its
  latest decision must be ``approved``; otherwise the build fails with a message naming the model,
  the version and the command that fixes it.
* **Activation history.** ``model_activation_gate`` holds, per model, the version the running
  build runs with and the approval that allowed it; once the build has finished, its on-run-end
  hook (``macros/lifecycle/record_finished_build.sql``) appends those rows to
  ``model_activation_log``, so a build killed on the way leaves no trace there and "which version
  was live on date X" is the latest activation of a finished build at or before X.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import pyarrow as pa
import pyarrow.compute as pc

from mrs.duckdb_relations import query_relation
from mrs.lifecycle.registry import TRAINED
from mrs.lifecycle.schemas import ACTIVATION_GATE, APPROVAL_LOG, keep_unlogged, stable_id, typed_table
from mrs.logs import ModelCard, RunContext, hash_sql, quote
from mrs.project import project_root
from mrs.versions import MODEL_NAMES

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

APPROVALS_ENV = "MRS_APPROVALS_FILE"
"""Environment variable overriding the approvals file ``mrs approve`` appends to."""

APPROVALS_SEED = "model_approvals"
APPROVAL_COLUMNS: tuple[str, ...] = (
    "approval_id",
    "model_name",
    "model_version",
    "decision",
    "decided_by",
    "decided_at",
    "reason",
)
APPROVED, REJECTED = "approved", "rejected"
DECISIONS: tuple[str, ...] = (APPROVED, REJECTED)
TRAINABLE_MODELS: tuple[str, ...] = ("baseline", "product_insights", "anomaly_classifier", "cluster_model", "attribution_model")
"""Models ``mrs train`` can train (the others have built-in versions only, so far)."""

Rows = Union[pa.Table, "duckdb.DuckDBPyRelation"]


class GovernanceError(ValueError):
    """An approval record or the approvals file is not valid."""


class ActivationError(RuntimeError):
    """The configured active version of a model may not run: unregistered, unapproved or rejected."""


# ---- the approvals file -------------------------------------------------------------------------


def approvals_path(override: str | Path | None = None) -> Path:
    """An explicit path, ``$MRS_APPROVALS_FILE``, else ``seeds/model_approvals.csv`` of the dbt
    project around the current directory."""
    chosen = override or os.environ.get(APPROVALS_ENV)
    if chosen:
        return Path(chosen).expanduser().resolve()
    return (project_root() or Path.cwd().resolve()) / "seeds" / f"{APPROVALS_SEED}.csv"


@dataclass(frozen=True)
class Approval:
    """One governance decision about one model version."""

    approval_id: str
    model_name: str
    model_version: str
    decision: str
    decided_by: str
    decided_at: datetime
    reason: str

    @staticmethod
    def record_id(fields: tuple[str, ...], artifact_digest: str = "") -> str:
        """``apr-`` and a hash of the record's content and, for a trained version, of its artefact's
        digest (the SHA-256 of its ``manifest.json``, the registry's ``entry_fingerprint``): so an
        approval holds for that one artefact, and the gate can check it against the registered one."""
        return f"apr-{stable_id(*fields, *([artifact_digest] if artifact_digest else []))[:12]}"

    @property
    def content(self) -> tuple[str, ...]:
        """The record's fields after its id, as written to the approvals file (and hashed into the id)."""
        return (
            self.model_name,
            self.model_version,
            self.decision,
            self.decided_by,
            self.decided_at.isoformat(sep=" "),
            self.reason,
        )

    def is_for_artifact(self, artifact_digest: str) -> bool:
        """Whether this record approves (or rejects) the artefact with that digest."""
        return self.approval_id == self.record_id(self.content, artifact_digest)

    @classmethod
    def make(
        cls,
        model_name: str,
        model_version: str,
        decision: str,
        decided_by: str,
        reason: str,
        decided_at: datetime | None = None,
        artifact_digest: str = "",
    ) -> Approval:
        """A validated record; ``decided_at`` defaults to now (UTC, to the second). A decision about
        a trained version names its artefact's digest (``artifact_digest``); a built-in one none."""
        at = (decided_at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None, microsecond=0)
        if model_name not in MODEL_NAMES:
            raise GovernanceError(f"unknown model {model_name!r} (models: {', '.join(MODEL_NAMES)})")
        if decision not in DECISIONS:
            raise GovernanceError(f"decision must be one of {DECISIONS}, got {decision!r}")
        for label, value in (("version", model_version), ("--by", decided_by), ("--reason", reason)):
            if not str(value).strip():
                raise GovernanceError(f"{label} must not be empty")
            if "\n" in str(value) or "\r" in str(value):
                raise GovernanceError(f"{label} must be one line")
        fields = (model_name, str(model_version), decision, decided_by.strip(), at.isoformat(sep=" "), reason.strip())
        return cls(cls.record_id(fields, artifact_digest), *fields[:2], decision, fields[3], at, fields[5])

    def csv_values(self) -> list[str]:
        return [self.approval_id, *self.content]


def append_approval(path: Path, approval: Approval) -> None:
    """Append one record to the approvals file (creating it with a header if needed).

    The file is append-only: existing lines are never rewritten.
    """
    existing = path.read_text() if path.exists() else ""
    if existing:
        header = next(csv.reader(io.StringIO(existing)))
        if tuple(header) != APPROVAL_COLUMNS:
            raise GovernanceError(f"{path}: header is {header}, expected {list(APPROVAL_COLUMNS)}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if not existing:
        writer.writerow(APPROVAL_COLUMNS)
    writer.writerow(approval.csv_values())
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", newline="") as handle:
        if existing and not existing.endswith("\n"):
            handle.write("\n")
        handle.write(buffer.getvalue())


# ---- model_approval_log -------------------------------------------------------------------------


def record_approvals(
    con: duckdb.DuckDBPyConnection,
    approvals_seed: duckdb.DuckDBPyRelation,
    *,
    log_relation: str | None,
    run: RunContext | None = None,
) -> pa.Table:
    """The ``model_approval_log`` step: every record of the approvals seed not logged yet.

    A record's ``log_id`` hashes all its columns, so an edited line (which the file's append-only
    rule forbids) shows up as a second record under the same ``approval_id``.
    """
    missing = [c for c in APPROVAL_COLUMNS if c not in approvals_seed.columns]
    if missing:
        raise GovernanceError(f"{APPROVALS_SEED}: the approvals seed has no column(s) {missing}")
    cols = ", ".join(quote(c) for c in APPROVAL_COLUMNS)
    typed = query_relation(
        approvals_seed,
        "mrs_approvals",
        f"""select
            {hash_sql([quote(c) for c in APPROVAL_COLUMNS])} as log_id,
            cast(approval_id as varchar) as approval_id,
            cast(model_name as varchar) as model_name,
            cast(model_version as varchar) as model_version,
            cast(decision as varchar) as decision,
            cast(decided_by as varchar) as decided_by,
            cast(decided_at as timestamp) as decided_at,
            cast(reason as varchar) as reason
        from (select {cols} from mrs_approvals)""",
    ).to_arrow_table()
    bad = pc.invert(pc.is_in(typed.column("decision"), pa.array(DECISIONS))).to_pylist()
    if any(b is not False for b in bad):
        rows = [i for i, b in enumerate(bad) if b is not False][:10]
        ids = typed.column("approval_id").take(rows).to_pylist()
        raise GovernanceError(f"{APPROVALS_SEED}.decision: must be one of {DECISIONS}; offending approval_id(s) {ids}")
    run = run or RunContext.current()
    n = typed.num_rows
    batch = typed.append_column("run_id", pa.array([run.run_id] * n, pa.string())).append_column(
        "recorded_at", pa.array([run.scored_at] * n, APPROVAL_LOG.field("recorded_at").type)
    )
    batch = typed_table(batch.to_pylist(), APPROVAL_LOG, "model_approval_log")
    return keep_unlogged(con, batch, log_relation, "model_approval_log")


# ---- the gate ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActiveVersion:
    """A model version that passed the gate: its card and the records that allowed it."""

    card: ModelCard
    kind: str
    registry_log_id: str
    approval_id: str
    registry_row: Mapping[str, Any]

    @property
    def artifact_uri(self) -> str | None:
        return self.registry_row.get("artifact_uri")

    @property
    def artifact_sha256(self) -> str | None:
        return self.registry_row.get("artifact_sha256")


def _rows_of_model(source: Rows, model_name: str) -> list[dict[str, Any]]:
    """The rows of a registry or approval table (Arrow or a DuckDB relation) for one model."""
    if isinstance(source, pa.Table):
        table = source.filter(pc.equal(source.column("model_name"), model_name))
    else:
        literal = "'" + model_name.replace("'", "''") + "'"
        table = source.filter(f"model_name = {literal}").to_arrow_table()
    return table.to_pylist()


def _fix_hint(model_name: str) -> str:
    if model_name in TRAINABLE_MODELS:
        return f"`mrs train {model_name}`, then `dbt build` registers it from its manifest"
    return "add it to mrs.versions.BUILTIN_CARDS (or train it), then `dbt build` registers it"


def latest_decisions(approvals: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per version, the latest decision (by ``decided_at``, then ``approval_id``)."""
    latest: dict[str, dict[str, Any]] = {}
    for record in sorted(approvals, key=lambda r: (r["decided_at"], r["approval_id"])):
        latest[str(record["model_version"])] = record
    return latest


def _applies_to(record: Mapping[str, Any], registry_row: Mapping[str, Any]) -> bool:
    """A decision applies to a registered version: always for a built-in one (its approval names no
    artefact), and for a trained one only when it names that artefact's digest."""
    if registry_row.get("model_kind") != TRAINED:
        return True
    approval = Approval(*(record[c] for c in APPROVAL_COLUMNS))
    return approval.is_for_artifact(str(registry_row["entry_fingerprint"]))


def resolve_active(model_name: str, version: Any, registry: Rows, approvals: Rows) -> ActiveVersion:
    """The registered, approved version ``version`` of ``model_name``, or :class:`ActivationError`.

    ``registry`` and ``approvals`` are ``model_registry_log`` and ``model_approval_log`` (what
    ``dbt.ref()`` returns, or Arrow tables).
    """
    var = f"vars.active_model_versions.{model_name}"
    if version is None or not str(version).strip() or str(version) == "None":
        raise ActivationError(f"{var} is not set: name the version of {model_name!r} this build should run")
    version = str(version)
    entries = _rows_of_model(registry, model_name)
    rows = [e for e in entries if str(e["model_version"]) == version]
    records = _rows_of_model(approvals, model_name)
    # a decision about a trained version holds only for the artefact it names (Approval.record_id)
    foreign = [r for r in records if rows and str(r["model_version"]) == version and not _applies_to(r, rows[0])]
    decisions = latest_decisions(
        [r for r in records if not (rows and str(r["model_version"]) == version) or _applies_to(r, rows[0])]
    )
    registered = sorted({str(e["model_version"]) for e in entries})
    approved = sorted(v for v, d in decisions.items() if d["decision"] == APPROVED and v in registered)
    if not rows:
        raise ActivationError(
            f"model {model_name!r} version {version!r} is not registered, so this build may not run it. "
            f"Train and register it first ({_fix_hint(model_name)}), or set {var} to a registered, approved "
            f"version (registered: {registered}; approved: {approved})."
        )
    if len({r["entry_fingerprint"] for r in rows}) > 1:
        raise ActivationError(
            f"model {model_name!r} version {version!r} is registered {len(rows)} times with different content: "
            "its artefact changed after registration. Versions are immutable: train a new version and approve "
            f"that one, or set {var} to another approved version ({approved})."
        )
    decision = decisions.get(version)
    command = f"mrs approve {model_name} {version} --by NAME --reason TEXT"
    if decision is None and foreign:
        raise ActivationError(
            f"model {model_name!r} version {version!r}: approval(s) {sorted(r['approval_id'] for r in foreign)} are for "
            f"another artefact than the registered one ({rows[0]['artifact_uri']}, manifest sha256 "
            f"{rows[0]['entry_fingerprint']}), e.g. a version {version} trained into another artefacts folder, so this "
            f"build may not run it. Review this artefact and `{command}` (with this artefacts folder), or set {var} "
            f"back to an approved version ({approved})."
        )
    if decision is None:
        raise ActivationError(
            f"model {model_name!r} version {version!r} is registered but not approved, so this build may not "
            f"run it. Approve it with `{command}` (then commit seeds/{APPROVALS_SEED}.csv; the next dbt build "
            f"loads it), or set {var} back to an approved version ({approved})."
        )
    if decision["decision"] != APPROVED:
        raise ActivationError(
            f"model {model_name!r} version {version!r} was {decision['decision']} by {decision['decided_by']} "
            f"at {decision['decided_at']} ({decision['reason']!r}), so this build may not run it. Set {var} "
            f"back to an approved version ({approved}), or after a new review `{command}`."
        )
    row = rows[0]
    card = ModelCard(
        model_name=model_name,
        model_version=version,
        trained_on=row["trained_on"],
        registry_source=row["model_registry_source"],
        confidence_metric=float(row["model_confidence_metric"]),
        description=row.get("description") or "",
    )
    return ActiveVersion(card, row["model_kind"], row["log_id"], decision["approval_id"], row)


def require_active(model_name: str, version: Any, registry: Rows, approvals: Rows) -> ModelCard:
    """The card of the active version, if it is registered and approved; else a clear
    :class:`ActivationError`. Every scoring model calls this before it scores anything."""
    return resolve_active(model_name, version, registry, approvals).card


def resolve_actives(active_versions: Mapping[str, Any], registry: Rows, approvals: Rows) -> dict[str, ActiveVersion]:
    """:func:`resolve_active` for every model the var names."""
    return {name: resolve_active(name, version, registry, approvals) for name, version in active_versions.items()}


# ---- model_activation_gate (recorded in model_activation_log once the build finishes) -----------


def parse_active_versions(value: str | Mapping[str, Any]) -> dict[str, Any]:
    """``vars.active_model_versions`` as dbt passes it through a model config (JSON text)."""
    parsed = json.loads(value) if isinstance(value, str) else dict(value)
    if not isinstance(parsed, dict):
        raise GovernanceError(f"vars.active_model_versions must be a mapping of model name to version, got {value!r}")
    return parsed


def record_activation(
    active_versions: Mapping[str, Any],
    registry: Rows,
    approvals: Rows,
    run: RunContext | None = None,
) -> pa.Table:
    """The ``model_activation_gate`` step: one row per model with the version this build runs.

    Fails (listing every problem) if any configured version does not pass the gate. The rows reach
    ``model_activation_log`` only when the build has finished (its on-run-end hook).
    """
    run = run or RunContext.current()
    unknown = sorted(set(active_versions) - set(MODEL_NAMES))
    problems = [f"vars.active_model_versions names unknown model(s) {unknown} (models: {list(MODEL_NAMES)})"] if unknown else []
    rows = []
    for name in MODEL_NAMES:
        try:
            active = resolve_active(name, active_versions.get(name), registry, approvals)
        except ActivationError as exc:
            problems.append(str(exc))
            continue
        rows.append(
            {
                "log_id": stable_id(run.run_id, name, active.card.model_version),
                "run_id": run.run_id,
                "model_name": name,
                "model_version": active.card.model_version,
                "active_version_var": json.dumps(active_versions.get(name)),
                "registry_log_id": active.registry_log_id,
                "approval_id": active.approval_id,
                "model_registry_source": active.card.registry_source,
                "trained_on": active.card.trained_on,
                "activated_at": run.scored_at,
            }
        )
    if problems:
        raise ActivationError("; ".join(problems))
    return typed_table(rows, ACTIVATION_GATE, "model_activation_gate")
