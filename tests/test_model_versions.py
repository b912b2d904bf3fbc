"""One model's version overridden from the command line, the others kept (vars.model_versions)."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from conftest import PROJECT_ROOT, Warehouse

from mrs.versions import merged_model_versions

README_OVERRIDE = re.compile(r"^(\.venv/bin/dbt build --vars '\{active_model_versions: \{baseline: \"1\"\}\}')", re.M)


def test_an_override_replaces_the_models_it_names_and_keeps_the_others() -> None:
    defaults = {"product_insights": "0", "baseline": "0", "cluster_model": "0"}
    assert merged_model_versions(defaults, {"baseline": 1}) == {"product_insights": "0", "baseline": "1", "cluster_model": "0"}
    assert merged_model_versions(defaults, None) == defaults
    assert merged_model_versions(None, {"baseline": "2"}) == {"baseline": "2"}


@pytest.mark.integration
def test_the_readme_activation_command_overrides_one_model_verbatim(project_copy: Warehouse) -> None:
    # the README's command, exactly as written; baseline 1 is not trained in this copy, so the build
    # must stop at the governance gate naming it - not at parse time on the other models' versions
    command = README_OVERRIDE.search((PROJECT_ROOT / "README.md").read_text()).group(1)
    (project_copy.project_dir / ".venv").symlink_to(PROJECT_ROOT / ".venv")
    env = dict(
        os.environ,
        MRS_DUCKDB_PATH=str(project_copy.path),
        DBT_TARGET_PATH=str(project_copy.path.parent / "target"),
        DBT_LOG_PATH=str(project_copy.path.parent / "logs"),
    )
    result = subprocess.run(
        ["bash", "-c", command],
        cwd=project_copy.project_dir,
        env=env,
        capture_output=True,
        text=True,
    )
    out = result.stdout
    assert "Undefined" not in out and "Compilation Error" not in out, out[-3000:]
    assert result.returncode != 0
    assert "model 'baseline' version '1' is not registered" in out
    assert "OK created python incremental model ml.product_insights_log" in out  # still its version 0
