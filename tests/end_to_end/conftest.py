"""What the end-to-end tests share: a scratch copy of the project, and `kedro run` in it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from tests.conftest import PROJECT_ROOT

FOLDS = 2


def free_port() -> int:
    """A TCP port of 127.0.0.1 that no one listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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


def kedro_run(
    project: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """``kedro run`` with ``args`` in ``project`` (and ``env`` added to the environment)."""
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "kedro", "run", *args],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def start_run(project: Path, *args: str, log: str = "run.log") -> subprocess.Popen:
    """``kedro run`` in the background, in its own process group, its output to ``log`` in the
    project (a pipe nobody reads while it runs would fill up and stop it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "kedro", "run", *args],
        cwd=project,
        stdout=(project / log).open("w"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "COLUMNS": "200"},
        start_new_session=True,
    )


def output(project: Path, run: subprocess.Popen, log: str = "run.log") -> str:
    """What ``run`` printed to ``log``, once it has ended."""
    run.wait(timeout=600)
    return (project / log).read_text()


def one_specialist(project: Path, env: str) -> None:
    """Train one specialist group, not six, in ``env`` of a scratch project: the runs that check
    where files go or which backend ran need no more."""
    (project / "conf" / env / "parameters_tests.yml").write_text(
        "specialists: {enabled: [eye_centers]}\n"
    )


@pytest.fixture(scope="session")
def trained_demo(tmp_path_factory) -> Path:
    """A scratch project with demo data run through every pipeline: 2 folds, 1 epoch per model.

    Shared by the tests that only read it (each marked ``xdist_group("trained_demo")``, so that one
    test worker runs them all and trains it once); tests that change it take a copy."""
    project = tmp_path_factory.mktemp("trained")
    with pytest.MonkeyPatch.context() as patch:
        make_project(project, patch)
        bootstrap_project(project)
        runtime = {
            "cv": {"folds": FOLDS},
            "full_model": {"epochs": 1},
            "specialists": {"epochs": 1},
            "training": {"verbose": 0},
        }
        with KedroSession.create(
            project_path=project, env="demo", runtime_params=runtime
        ) as session:
            session.run(pipeline_names=["submission"])
    return project
