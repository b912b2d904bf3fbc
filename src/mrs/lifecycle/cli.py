"""``mrs train``, ``mrs approve``, ``mrs reject`` and ``mrs retrain``: the lifecycle's commands.

They read the warehouse read-only (``--warehouse``, ``$MRS_DUCKDB_PATH``, else ``./mrs.duckdb``, as profiles.yml),
write artefacts under the artefacts root (``--artifacts-dir``, ``$MRS_ARTIFACTS_DIR``, else
``artifacts/models`` of the project) and append decisions to the approvals file
(``--approvals-file``, ``$MRS_APPROVALS_FILE``, else ``seeds/model_approvals.csv``).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click
import duckdb

from mrs.cli_options import WAREHOUSE_ENV, emit, json_option, warehouse_option
from mrs.lifecycle.artifacts import ArtifactError, artifacts_root, find_all_manifests, locate_version, sha256_file
from mrs.lifecycle.governance import (
    APPROVED,
    REJECTED,
    TRAINABLE_MODELS,
    Approval,
    GovernanceError,
    append_approval,
    approvals_path,
)
from mrs.lifecycle.training import TrainingConfig, TrainingError, TrainingResult, summary_text, train_baseline
from mrs.minority.cli import MINORITY_TRAINABLE, train_minority_model
from mrs.versions import BUILTIN_CARDS, MODEL_NAMES

RETRAIN_EVENTS_TABLE = "ml.model_retrain_event_log"
REGISTRY_TABLE = "ml.model_registry_log"


def connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """The warehouse, read-only (a build may not be writing it at the same time)."""
    if not path.is_file():
        raise click.ClickException(f"no warehouse at {path}: run `dbt build` first, or set {WAREHOUSE_ENV}")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise click.ClickException(f"cannot open {path} read-only (is a dbt build writing it?): {exc}") from exc


_warehouse_option = warehouse_option()
_artifacts_option = click.option(
    "--artifacts-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Artefacts root.  [default: $MRS_ARTIFACTS_DIR or artifacts/models of the project]",
)


def _summary(model: str, result: TrainingResult) -> str:
    """What a training run prints: each trainer summarises its own manifest (splits and metrics differ)."""
    if model == "product_insights":
        from mrs.insights.training import summary_text as insights_summary

        return insights_summary(result)
    return summary_text(result)


def _train(
    model: str,
    con: duckdb.DuckDBPyConnection,
    root: Path,
    config: TrainingConfig,
    progress: bool,
    retrain_event_ids: tuple[str, ...] = (),
    quiet: bool = False,
) -> TrainingResult:
    if model == "product_insights":
        from mrs.insights.training import InsightsTrainingError, train_product_insights

        try:
            insights_result = train_product_insights(
                con, root, retrain_event_ids=retrain_event_ids, echo=lambda line: click.echo(line, err=True)
            )
        except (InsightsTrainingError, ArtifactError) as exc:
            raise click.ClickException(str(exc)) from exc
        if not quiet:
            emit(
                {"trained": asdict(insights_result.manifest), "path": insights_result.path},
                lambda: _summary(model, insights_result),
            )
        return insights_result
    if model != "baseline":  # pragma: no cover - TRAINABLE_MODELS lists the trainers
        raise click.ClickException(f"no trainer for {model!r}")
    try:
        result = train_baseline(
            con,
            root,
            config=config,
            retrain_event_ids=retrain_event_ids,
            progress=progress,
            echo=lambda line: click.echo(line, err=True),
        )
    except (TrainingError, ArtifactError) as exc:
        raise click.ClickException(str(exc)) from exc
    if not quiet:
        emit({"trained": asdict(result.manifest), "path": result.path}, lambda: summary_text(result))
    return result


@click.command("train")
@click.argument("model", type=click.Choice(TRAINABLE_MODELS))
@json_option
@_warehouse_option
@_artifacts_option
@click.option(
    "--holdout-periods",
    "--holdout-days",
    "holdout_periods",
    type=click.IntRange(min=1),
    default=TrainingConfig.holdout_periods,
    show_default=True,
    help="Last periods (days, or weeks at sales_grain: week) held out.",
)
@click.option(
    "--validation-periods",
    "--validation-days",
    "validation_periods",
    type=click.IntRange(min=1),
    default=TrainingConfig.validation_periods,
    show_default=True,
    help="Periods before the hold-out used for early stopping.",
)
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress bar on stderr.")
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Random state of a minority-report model (anomaly_classifier, cluster_model, attribution_model).",
)
@click.option(
    "--world-cache",
    type=click.Path(file_okay=False),
    default=None,
    help="Minority-report models: keep the simulated training worlds here.",
)
def train(
    model: str,
    warehouse: Path,
    artifacts_dir: Path | None,
    holdout_periods: int,
    validation_periods: int,
    progress: bool,
    seed: int,
    world_cache: str | None,
) -> None:
    """Train a new version of MODEL outside the DAG and write it as an immutable artefact.

    Reads the warehouse read-only, splits train / validation / hold-out by time, trains, evaluates
    on the hold-out and prints a summary. The next `dbt build` registers the version; it runs only
    after `mrs approve`.
    """
    if model in MINORITY_TRAINABLE:  # trained on simulated worlds (mrs.minority.training), not the warehouse
        _train_minority(model, artifacts_root(artifacts_dir), seed=seed, world_cache=world_cache)
        return
    with connect_read_only(warehouse) as con:
        _train(
            model,
            con,
            artifacts_root(artifacts_dir),
            TrainingConfig(holdout_periods=holdout_periods, validation_periods=validation_periods),
            progress,
        )


def _train_minority(model: str, root: Path, seed: int = 0, world_cache: str | None = None) -> None:
    """The minority-report models train on the fixed simulated seed sets of mrs.minority.training."""
    try:
        path = train_minority_model(model, root, seed=seed, world_cache=world_cache, echo=lambda line: click.echo(line, err=True))
    except ArtifactError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"trained {model} into {path}; the next `dbt build` registers it, `mrs approve` approves it")


def _version_exists(model: str, version: str, root: Path) -> bool:
    return (model, version) in BUILTIN_CARDS or (locate_version(root, model, version) / "manifest.json").is_file()


def _decide(
    decision: str, model: str, version: str, by: str, reason: str, approvals_file: Path | None, artifacts_dir: Path | None
) -> None:
    root = artifacts_root(artifacts_dir)
    if not _version_exists(model, version, root):
        raise click.ClickException(
            f"model {model!r} has no version {version!r}: it is not built in and there is no "
            f"{locate_version(root, model, version) / 'manifest.json'} (train it first, or pass --artifacts-dir)"
        )
    path = approvals_path(approvals_file)
    manifest = locate_version(root, model, version) / "manifest.json"
    # a trained version's decision names its artefact (the manifest's SHA-256): it holds for that one only
    digest = sha256_file(manifest) if (model, version) not in BUILTIN_CARDS else ""
    try:
        approval = Approval.make(model, version, decision, by, reason, artifact_digest=digest)
        append_approval(path, approval)
    except GovernanceError as exc:
        raise click.ClickException(str(exc)) from exc
    lines = [
        f"{decision} {model} {version} ({approval.approval_id}, by {approval.decided_by}) in {path}",
        "  commit the file: the next `dbt build` loads it into model_approval_log",
    ]
    if decision == APPROVED:
        lines.append(f'  activate it with vars.active_model_versions.{model}: "{version}" (dbt_project.yml or --vars)')
    emit({"approval": asdict(approval), "approvals_file": path}, "\n".join(lines))


def _decision_command(decision: str, verb: str) -> click.Command:
    @click.command(
        verb,
        help=f"Record that VERSION of MODEL is {decision}: append one line to the committed approvals file "
        "(append-only, reviewed like code); the next `dbt build` loads it.",
    )
    @click.argument("model", type=click.Choice(MODEL_NAMES))
    @click.argument("version")
    @json_option
    @click.option("--by", "by", required=True, help="Who decides.")
    @click.option("--reason", required=True, help="Why, in one line.")
    @click.option(
        "--approvals-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Approvals file.  [default: $MRS_APPROVALS_FILE or seeds/model_approvals.csv of the project]",
    )
    @_artifacts_option
    def command(model: str, version: str, by: str, reason: str, approvals_file: Path | None, artifacts_dir: Path | None) -> None:
        _decide(decision, model, version, by, reason, approvals_file, artifacts_dir)

    return command


approve = _decision_command(APPROVED, "approve")
reject = _decision_command(REJECTED, "reject")


def open_retrain_events(con: duckdb.DuckDBPyConnection, root: Path) -> dict[str, list[str]]:
    """Per model, the retrain events no registered or already trained version answers."""
    tables = {r[0] for r in con.sql("select table_schema || '.' || table_name from information_schema.tables").fetchall()}
    if RETRAIN_EVENTS_TABLE not in tables:
        raise click.ClickException(f"{RETRAIN_EVENTS_TABLE} is not in the warehouse: run `dbt build` first")
    answered = {e for _, m in find_all_manifests(root) for e in m.retrain_event_ids}
    if REGISTRY_TABLE in tables:
        answered |= {r[0] for r in con.sql(f"select distinct unnest(retrain_event_ids) from {REGISTRY_TABLE}").fetchall()}
    events: dict[str, list[str]] = {}
    for model, event_id in con.sql(
        f"select model_name, event_id from {RETRAIN_EVENTS_TABLE} "
        "group by model_name, event_id order by model_name, min(as_of_date), event_id"
    ).fetchall():
        if event_id not in answered:
            events.setdefault(model, []).append(event_id)
    return events


@click.command("retrain")
@json_option
@_warehouse_option
@_artifacts_option
@click.option("--dry-run", is_flag=True, help="List the open events and what would be trained.")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress bar on stderr.")
def retrain(warehouse: Path, artifacts_dir: Path | None, dry_run: bool, progress: bool) -> None:
    """Train a candidate version for every model with open retrain events (model_retrain_event_log).

    The candidate lists the events it answers; the next `dbt build` registers it (closing them) and
    it runs only after `mrs approve`.
    """
    root = artifacts_root(artifacts_dir)
    lines: list[str] = []
    models: list[dict] = []
    with connect_read_only(warehouse) as con:
        events = open_retrain_events(con, root)
        if not events:
            lines.append("no open retrain events")
        for model, ids in events.items():
            entry: dict = {"model_name": model, "open_event_ids": ids, "trained": None}
            models.append(entry)
            lines.append(f"{model}: {len(ids)} open retrain event(s) {', '.join(ids)}")
            if model not in TRAINABLE_MODELS:
                entry["action"] = "no_trainer"
                lines.append(f"  no trainer for {model} yet (trainable: {', '.join(TRAINABLE_MODELS)}); the events stay open")
                continue
            if (
                model in MINORITY_TRAINABLE
            ):  # trained on the fixed simulated seed sets: the warehouse's drift does not change them
                entry["action"] = "train_on_simulated_worlds"
                lines.append(
                    f"  {model} trains on simulated worlds, not this warehouse: run `mrs train {model}`; the events stay open"
                )
                continue
            if dry_run:
                entry["action"] = "would_train"
                lines.append(f"  would train a candidate {model} version")
                continue
            entry["action"] = "trained"
            result = _train(model, con, root, TrainingConfig(), progress, retrain_event_ids=tuple(ids), quiet=True)
            entry["trained"] = {"model_version": result.manifest.model_version, "path": result.path}
            lines.extend([_summary(model, result), "  the candidate is pending approval"])
    emit({"models": models, "dry_run": dry_run}, "\n".join(lines))
