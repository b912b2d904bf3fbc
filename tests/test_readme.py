"""Every command the README shows is run, as written, in a fresh copy of the project.

The README's shell blocks and inline ``.venv/bin/…`` commands are read from the file itself, so a
command added to the README without a way to run it here fails
``test_every_readme_command_is_run_by_a_test``. The integration test runs them in README order in
a copy of the project whose ``.venv`` is this test's virtual environment, so each command runs
verbatim from the copy's root. The few that cannot run inside pytest say why in ``NOT_RUN_HERE``,
and the few too large for CI run with the smaller arguments in ``SMALLER``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, copy_project

README = PROJECT_ROOT / "README.md"
VENV_BIN = Path(sys.executable).parent

#: commands that cannot run inside the test suite, and what runs them instead
NOT_RUN_HERE = {
    "make test": "CI: .ci/run runs `make test` (test_ci_runs_the_readme_test_command checks it)",
    '.venv/bin/pytest -m "not integration"': "the unit subset of this very suite, which `make test` runs whole",
    ".venv/bin/mrs train anomaly_classifier": "33 simulated worlds (~20 min): "
    "test_minority_v1_training trains the three models on a tiny seed plan",
    ".venv/bin/python benchmarks/bench_build.py --stores 1000 --skus 100 --days 100": "three builds of a 10M world: "
    "test_benchmark runs this script, as a command, on the 4 x 6 x 40 world this test would shrink it to "
    "(it ran here too, a second time: about 3 CI minutes)",
}

#: commands run with smaller arguments: the README's sizes take minutes and gigabytes
SMALLER = {
    "--stores 2000 --skus 100 --days 120": "--stores 4 --skus 6 --days 40",
    "--seeds 9001-9003": "--seeds 9001",
    "--seeds 9100 --stores 200 --skus 50": "--seeds 9001 --stores 8 --skus 6",
}

_COMMENT = re.compile(r"\s{2,}#.*$")


def readme_commands(text: str | None = None) -> list[str]:
    """The commands of the README in order: each line of a ```bash block (without its trailing
    comment) and each inline `.venv/bin/…` or `make …` command; `a && b` counts as one."""
    text = README.read_text() if text is None else text
    commands: list[str] = []
    in_block = False
    for line in text.splitlines():
        if line.strip().startswith("```"):  # fences may be indented (inside a list item)
            in_block = line.strip() == "```bash"
            continue
        if in_block:
            command = _COMMENT.sub("", line).strip()
            if command and not command.startswith("#"):
                commands.append(command)
        else:
            for inline in re.findall(r"`((?:\.venv/bin/|make )[^`]+)`", line):
                if "<" not in inline:  # a template such as `mrs.quality.scaffold <log>` is not a command
                    commands.append(inline)
    return list(dict.fromkeys(commands))


def test_readme_commands_are_found() -> None:
    commands = readme_commands()
    assert "make build" in commands and "make test" in commands
    assert readme_commands("```bash\nmake x   # why\n```\nrun `.venv/bin/mrs y --z` now\n   ```bash\n   make w\n   ```\n") == [
        "make x",
        ".venv/bin/mrs y --z",
        "make w",
    ]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    assert re.search(r"^\s*make test\s*$", ci, re.M), ".ci/run must call the README's test command, `make test`"


def _in_project(command: str, project: Path, env: dict[str, str], timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], cwd=project, env=env, capture_output=True, text=True, timeout=timeout)


def _serve_briefly(command: str, project: Path, env: dict[str, str]) -> None:
    """Run a command that starts a server (`dbt docs serve`): it must answer on its port, then stop."""
    server = subprocess.Popen(
        ["bash", "-c", command],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert server.poll() is None, f"`{command}` exited: {server.stdout.read() if server.stdout else ''}"
            try:
                with socket.create_connection(("127.0.0.1", 8080), timeout=1):
                    return
            except OSError:
                time.sleep(0.5)
        raise AssertionError(f"`{command}` never answered on port 8080")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


@pytest.mark.integration
def test_every_readme_command_is_run_by_a_test(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    for name in (
        *("Makefile", "pyproject.toml", "requirements.lock", "README.md", "benchmarks", "src", ".ci", "examples", "docs"),
        *(".sqlfluff", ".sqlfluffignore", ".pre-commit-config.yaml"),  # `make lint`'s configuration
    ):
        src = PROJECT_ROOT / name
        if src.is_dir():
            if (project / name).is_dir():  # copy_project copied part of it (src/mrs/sql): link the whole
                shutil.rmtree(project / name)
            (project / name).symlink_to(src, target_is_directory=True)
        elif src.exists():
            (project / name).write_bytes(src.read_bytes())
            os.utime(project / name, (0, 0))  # older than the venv's install stamp: make installs nothing
    (project / ".venv").symlink_to(VENV_BIN.parent, target_is_directory=True)
    env = dict(os.environ)
    env.update(
        MRS_DUCKDB_PATH=str(tmp_path / "mrs.duckdb"),
        MRS_ARTIFACTS_DIR=str(tmp_path / "artifacts"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    ran: list[str] = []
    for command in readme_commands():
        if command in NOT_RUN_HERE:
            continue
        runnable = command
        for large, small in SMALLER.items():
            runnable = runnable.replace(large, small)
        if "docs serve" in runnable:
            _serve_briefly(runnable, project, env)
        else:
            result = _in_project(runnable, project, env)
            assert result.returncode == 0, (
                f"README command failed ({result.returncode}): {command}\n{result.stdout[-4000:]}\n{result.stderr[-3000:]}"
            )
        ran.append(command)
    assert ran, "no README command ran"
    assert set(ran) | set(NOT_RUN_HERE) == set(readme_commands())


def test_no_command_is_excused_that_the_readme_no_longer_shows() -> None:
    commands = set(readme_commands())
    assert set(NOT_RUN_HERE) <= commands
    assert all(any(large in c for c in commands) for large in SMALLER), "SMALLER names arguments no README command uses"


def test_commands_parse_as_shell() -> None:
    for command in readme_commands():
        shlex.split(command)
