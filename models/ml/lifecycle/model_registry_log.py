"""model_registry_log: every model version a build has seen (built-in cards and trained manifests), append-only."""

from mrs.lifecycle.artifacts import artifacts_root
from mrs.lifecycle.registry import register_new_versions


def model(dbt, session):
    dbt.config(materialized="incremental")
    return register_new_versions(
        session,
        artifacts_root=artifacts_root(dbt.config.get("artifacts_dir") or None),
        log_relation=str(dbt.this) if dbt.is_incremental else None,
    )
