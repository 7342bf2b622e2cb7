"""What the end-to-end tests share: a scratch copy of the project, and `kedro run` in it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT


def make_project(path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Copy the project's configuration to ``path`` and run from there."""
    for name in ("conf", "pyproject.toml", ".telemetry"):
        source = PROJECT_ROOT / name
        copy = shutil.copytree if source.is_dir() else shutil.copy
        copy(source, path / name)
    (path / "src").mkdir()  # the package itself is imported from the installed project
    shutil.rmtree(path / "conf" / "local", ignore_errors=True)
    (path / "conf" / "local").mkdir()
    monkeypatch.chdir(path)
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "true")
    return path


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A scratch copy of the project's configuration, run from its own folder."""
    return make_project(tmp_path, monkeypatch)


def kedro_run(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "kedro", "run", *args],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
