"""Governance: the approvals file, model_approval_log and the activation gate (mrs.lifecycle.governance)."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from conftest import PROJECT_ROOT

from mrs.lifecycle.artifacts import sha256_file
from mrs.lifecycle.governance import (
    APPROVAL_COLUMNS,
    ActivationError,
    Approval,
    GovernanceError,
    append_approval,
    record_activation,
    record_approvals,
    require_active,
    resolve_active,
)
from mrs.lifecycle.registry import builtin_entries, registry_batch
from mrs.lifecycle.schemas import APPROVAL_LOG, REGISTRY_LOG
from mrs.logs import RunContext
from mrs.versions import BUILTIN_CARDS, MODEL_NAMES

RUN = RunContext("run-1", datetime(2026, 1, 1, tzinfo=UTC))
COMMITTED_APPROVALS = PROJECT_ROOT / "seeds" / "model_approvals.csv"


def trained_row(version: str, fingerprint: str = "f1") -> dict:
    """A registry row of a trained baseline version."""
    return {
        "log_id": f"reg-{version}-{fingerprint}",
        "model_name": "baseline",
        "model_version": version,
        "model_kind": "trained",
        "trained_on": date(2025, 8, 12),
        "model_registry_source": f"artifact:baseline/{version}",
        "model_confidence_metric": 0.6,
        "description": "learned",
        "entry_fingerprint": fingerprint,
        "artifact_uri": "/nowhere",
        "artifact_sha256": "abc",
        "dataset_fingerprint": "d",
        "training_rows": 10,
        "data_start": date(2025, 5, 1),
        "data_end": date(2025, 8, 12),
        "features": ["lag_7d"],
        "parameters": "{}",
        "metrics": "{}",
        "validation_wape": 0.4,
        "holdout_wape": 0.4,
        "holdout_mase": 0.7,
        "holdout_relative_mae": 0.7,
        "reference_distributions": None,
        "retrain_event_ids": [],
        "run_id": "r",
        "registered_at": RUN.scored_at,
    }


def registry(*trained: dict) -> pa.Table:
    builtin = registry_batch(builtin_entries(), RUN)
    return pa.concat_tables([builtin, pa.Table.from_pylist(list(trained), schema=REGISTRY_LOG)]) if trained else builtin


def approvals(*records: Approval) -> pa.Table:
    rows = [
        {"log_id": a.approval_id, **{c: getattr(a, c) for c in APPROVAL_COLUMNS}, "run_id": "r", "recorded_at": RUN.scored_at}
        for a in records
    ]
    return pa.Table.from_pylist(rows, schema=APPROVAL_LOG)


def approve(version: str, decision: str = "approved", at: datetime = datetime(2026, 1, 2), digest: str = "f1") -> Approval:
    """A decision about the trained baseline ``version`` whose artefact has digest ``digest``."""
    return Approval.make("baseline", version, decision, "Ada", f"{decision} after review", at, artifact_digest=digest)


VERSION_ZERO = [Approval.make(m, "0", "approved", "mrs", "MVP", datetime(2025, 10, 12)) for m in MODEL_NAMES]


# ---- the gate ---------------------------------------------------------------------------------


def test_an_unregistered_version_fails_naming_model_version_and_how_to_register_it() -> None:
    with pytest.raises(ActivationError) as error:
        require_active("baseline", "3", registry(), approvals(*VERSION_ZERO))
    message = str(error.value)
    assert "'baseline' version '3' is not registered" in message
    assert "mrs train baseline" in message and "dbt build" in message
    assert "vars.active_model_versions.baseline" in message


def test_a_registered_but_unapproved_version_fails_with_the_exact_approve_command() -> None:
    with pytest.raises(ActivationError) as error:
        require_active("baseline", "3", registry(trained_row("3")), approvals(*VERSION_ZERO))
    message = str(error.value)
    assert "'baseline' version '3' is registered but not approved" in message
    assert "`mrs approve baseline 3 --by NAME --reason TEXT`" in message
    assert "approved version (['0'])" in message


def test_an_approved_version_passes_with_its_registered_card() -> None:
    card = require_active("baseline", "3", registry(trained_row("3")), approvals(*VERSION_ZERO, approve("3")))
    assert (card.model_name, card.model_version, card.trained_on) == ("baseline", "3", date(2025, 8, 12))
    assert card.registry_source == "artifact:baseline/3" and card.confidence_metric == 0.6


def test_the_latest_decision_counts_so_a_rejection_after_approval_blocks() -> None:
    records = (*VERSION_ZERO, approve("3", at=datetime(2026, 1, 2)), approve("3", "rejected", datetime(2026, 1, 3)))
    with pytest.raises(ActivationError, match=r"was rejected by Ada at 2026-01-03"):
        require_active("baseline", "3", registry(trained_row("3")), approvals(*records))
    records = (*records, approve("3", at=datetime(2026, 1, 4)))
    assert require_active("baseline", "3", registry(trained_row("3")), approvals(*records)).model_version == "3"


def test_a_version_registered_twice_with_different_content_is_refused() -> None:
    rows = registry(trained_row("3", "f1"), trained_row("3", "f2"))
    with pytest.raises(ActivationError, match="registered 2 times with different content"):
        require_active("baseline", "3", rows, approvals(*VERSION_ZERO, approve("3")))


def test_the_gate_reads_duckdb_relations_as_dbt_passes_them() -> None:
    con = duckdb.connect()
    con.register("registry_rows", registry(trained_row("3")))
    con.register("approval_rows", approvals(*VERSION_ZERO, approve("3")))
    active = resolve_active("baseline", 3, con.table("registry_rows"), con.table("approval_rows"))
    assert active.card.model_version == "3" and active.kind == "trained"
    assert active.approval_id == approve("3").approval_id


def test_an_unset_version_is_a_clear_error() -> None:
    with pytest.raises(ActivationError, match="vars.active_model_versions.baseline is not set"):
        require_active("baseline", None, registry(), approvals(*VERSION_ZERO))


# ---- the activation history -----------------------------------------------------------------------


def test_activation_records_every_model_with_the_approval_that_allowed_it() -> None:
    versions = {m: "0" for m in MODEL_NAMES}
    batch = record_activation(versions, registry(), approvals(*VERSION_ZERO), RUN)
    assert sorted(batch.column("model_name").to_pylist()) == sorted(MODEL_NAMES)
    assert set(batch.column("run_id").to_pylist()) == {"run-1"}
    assert set(batch.column("approval_id").to_pylist()) == {a.approval_id for a in VERSION_ZERO}


def test_activation_fails_listing_every_model_that_may_not_run() -> None:
    versions = {m: "0" for m in MODEL_NAMES} | {"baseline": "3", "cluster_model": "7"}
    with pytest.raises(ActivationError) as error:
        record_activation(versions, registry(trained_row("3")), approvals(*VERSION_ZERO), RUN)
    assert "'baseline' version '3' is registered but not approved" in str(error.value)
    assert "'cluster_model' version '7' is not registered" in str(error.value)


# ---- the approvals file ------------------------------------------------------------------------------


def test_approve_appends_one_line_and_never_rewrites_the_others(tmp_path: Path) -> None:
    path = tmp_path / "model_approvals.csv"
    path.write_bytes(COMMITTED_APPROVALS.read_bytes())
    before = path.read_bytes()
    record = approve("3")
    append_approval(path, record)
    after = path.read_bytes()
    assert after.startswith(before)
    rows = list(csv.DictReader(after.decode().splitlines()))
    assert rows[-1] == dict(zip(APPROVAL_COLUMNS, record.csv_values(), strict=True))
    assert len(rows) == len(list(csv.DictReader(before.decode().splitlines()))) + 1


def test_the_approvals_file_is_created_with_its_header(tmp_path: Path) -> None:
    path = tmp_path / "new" / "model_approvals.csv"
    append_approval(path, approve("3"))
    assert path.read_text().splitlines()[0] == ",".join(APPROVAL_COLUMNS)


def test_an_approvals_file_with_another_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model_approvals.csv"
    path.write_text("id,model\n")
    with pytest.raises(GovernanceError, match="header"):
        append_approval(path, approve("3"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("pricing", "1", "approved", "Ada", "ok"), "unknown model"),
        (("baseline", "1", "maybe", "Ada", "ok"), "decision must be one of"),
        (("baseline", "1", "approved", " ", "ok"), "--by must not be empty"),
        (("baseline", "1", "approved", "Ada", "two\nlines"), "--reason must be one line"),
    ],
)
def test_an_invalid_decision_is_refused(args: tuple, message: str) -> None:
    with pytest.raises(GovernanceError, match=message):
        Approval.make(*args)


def test_the_committed_file_approves_every_built_in_version() -> None:
    rows = list(csv.DictReader(COMMITTED_APPROVALS.read_text().splitlines()))
    approved = {(r["model_name"], r["model_version"]) for r in rows if r["decision"] == "approved"}
    assert set(BUILTIN_CARDS) <= approved
    assert {(m, "0") for m in MODEL_NAMES} <= approved
    assert len({r["approval_id"] for r in rows}) == len(rows)


# ---- model_approval_log --------------------------------------------------------------------------------


def test_the_approval_log_appends_each_record_once_and_keeps_an_edited_line_as_a_new_record() -> None:
    con = duckdb.connect()
    con.sql("create table model_approvals as select * from read_csv(?, all_varchar = true)", params=[str(COMMITTED_APPROVALS)])
    first = record_approvals(con, con.table("model_approvals"), log_relation=None, run=RUN)
    assert first.num_rows == len(COMMITTED_APPROVALS.read_text().splitlines()) - 1
    con.register("first_batch", first)
    con.sql("create table approval_log as select * from first_batch")
    assert record_approvals(con, con.table("model_approvals"), log_relation="approval_log", run=RUN).num_rows == 0
    con.sql("update model_approvals set reason = 'edited' where model_name = 'baseline' and model_version = '0'")
    edited = record_approvals(con, con.table("model_approvals"), log_relation="approval_log", run=RUN)
    assert edited.column("reason").to_pylist() == ["edited"]


def test_the_approval_log_names_records_with_an_unknown_decision() -> None:
    con = duckdb.connect()
    con.sql(
        "create table model_approvals as select * replace ('maybe' as decision) from read_csv(?, all_varchar = true) limit 1",
        params=[str(COMMITTED_APPROVALS)],
    )
    with pytest.raises(GovernanceError, match=r"model_approvals.decision.*apr-"):
        record_approvals(con, con.table("model_approvals"), log_relation=None, run=RUN)


def test_an_approval_holds_for_its_artefact_only_not_for_another_of_the_same_version() -> None:
    other_folder = trained_row("2", fingerprint="manifest-of-another-folder")
    with pytest.raises(ActivationError) as error:
        require_active("baseline", "2", registry(other_folder), approvals(*VERSION_ZERO, approve("2", digest="f1")))
    message = str(error.value)
    assert "are for another artefact than the registered one" in message and "manifest-of-another-folder" in message
    assert "mrs approve baseline 2" in message
    # the same decision, about the registered artefact, lets it run
    assert (
        require_active("baseline", "2", registry(trained_row("2", "f1")), approvals(*VERSION_ZERO, approve("2"))).model_version
        == "2"
    )


def test_the_committed_approvals_of_built_in_versions_stay_valid() -> None:
    with COMMITTED_APPROVALS.open() as f:
        committed = list(csv.DictReader(f))

    def digest(r: dict) -> str:  # a trained version's decision names its shipped artefact (trained_models/)
        if (r["model_name"], r["model_version"]) in BUILTIN_CARDS:
            return ""
        return sha256_file(PROJECT_ROOT / "trained_models" / r["model_name"] / r["model_version"] / "manifest.json")

    records = [
        Approval.make(
            r["model_name"],
            r["model_version"],
            r["decision"],
            r["decided_by"],
            r["reason"],
            datetime.fromisoformat(r["decided_at"]),
            artifact_digest=digest(r),
        )
        for r in committed
    ]
    assert [a.approval_id for a in records] == [r["approval_id"] for r in committed]
    for name in MODEL_NAMES:
        assert require_active(name, "0", registry(), approvals(*records)).model_version == "0"
