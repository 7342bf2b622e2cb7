"""Every way of building the pipelines draws the folds the configuration asks for: `kedro viz`,
`kedro registry`, `kedro catalog`, notebooks, a packaged project and sessions made in code."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.pipeline import Pipeline
from kedro_viz.integrations.kedro.data_loader import load_data

from facial_keypoints.domain.keypoints import SPECIALIST_GROUPS
from tests.end_to_end.conftest import FOLDS

pytestmark = pytest.mark.slow


def three_folds_in_conf_local(project: Path) -> Path:
    """``cv.folds: 3`` in the scratch project's conf/local, as a user would set it."""
    (project / "conf" / "local" / "parameters_cv.yml").write_text("cv:\n  folds: 3\n")
    return project


def any_kedro(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """A ``kedro`` command in ``project``."""
    return subprocess.run(
        [sys.executable, "-m", "kedro", *args],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "COLUMNS": "200", **env},
        timeout=300,
        check=False,
    )


def kedro(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """A ``kedro`` command in ``project`` that must succeed and print no warning."""
    result = any_kedro(project, *args, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning" not in (result.stdout + result.stderr).lower()
    return result


def folds_of(pipeline: Pipeline) -> list[str]:
    """The fold namespaces of ``pipeline``."""
    return sorted({node.namespace.split(".")[0] for node in pipeline.nodes if node.namespace})


def every_fold(folds: int) -> set[str]:
    """The namespaces of ``folds`` folds and their specialists."""
    return {f"fold_{k}" for k in range(folds)} | {
        f"fold_{k}.{group}" for k in range(folds) for group in SPECIALIST_GROUPS
    }


def test_viz_build_draws_every_fold_of_conf_local(project):
    kedro(three_folds_in_conf_local(project), "viz", "build", "--include-previews")
    drawn = json.loads((project / "build" / "api" / "main").read_text())["modular_pipelines"]
    assert every_fold(3) <= set(drawn)
    assert "fold_3" not in drawn


def test_viz_run_serves_the_folds_of_its_params(project):
    port = next(port for port in range(4300, 4400) if port_is_free(port))
    server = subprocess.Popen(
        [sys.executable, "-m", "kedro", "viz", "run", "--no-browser", "--port", str(port)]
        + ["--env", "demo", "--params", "cv.folds=2"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "COLUMNS": "200"},
        start_new_session=True,
    )
    try:
        drawn = served(f"http://127.0.0.1:{port}/api/main", server)["modular_pipelines"]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        output = server.communicate(timeout=60)[0]
    assert every_fold(2) <= set(drawn) and "fold_2" not in drawn
    assert "warning" not in output.lower(), output


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def served(url: str, server: subprocess.Popen) -> dict:
    """The JSON at ``url`` once the server answers (within two minutes)."""
    deadline = time.monotonic() + 120
    while server.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return json.load(answer)
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"kedro viz did not answer on {url}")


def test_registry_and_catalog_commands_show_every_fold_of_the_environment(project):
    three_folds_in_conf_local(project)
    described = kedro(project, "registry", "describe", "modelling").stdout
    assert "fold_2.nose_tip.train_specialist" in described
    assert "fold_3" not in described
    datasets = kedro(project, "catalog", "describe-datasets", "-p", "modelling").stdout
    assert "fold_2.eyebrows_specialist" in datasets
    # The demo environment replaces conf/local, as in `kedro run --env demo`: one fold.
    demo = kedro(project, "registry", "describe", "modelling", KEDRO_ENV="demo").stdout
    assert "fold_0.split_fold" in demo and "fold_1" not in demo


def test_a_fold_count_the_pipelines_cannot_have_is_one_line_in_every_command(project):
    (project / "conf" / "local" / "parameters_cv.yml").write_text("cv:\n  folds: 0\n")
    for command in (("registry", "describe", "modelling"), ("catalog", "describe-datasets")):
        result = any_kedro(project, *command)
        assert result.returncode == 1
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("Error: Parameter cv.folds = 0 is not allowed"), result.stderr
        assert "Traceback" not in result.stdout + result.stderr


def test_each_session_builds_the_folds_of_its_own_configuration(project):
    bootstrap_project(three_folds_in_conf_local(project))

    def session_folds(**create) -> list[str]:
        with KedroSession.create(project_path=project, **create) as session:
            session.load_context()
            return folds_of(pipelines["modelling"])

    assert session_folds() == ["fold_0", "fold_1", "fold_2"]
    assert session_folds(env="demo", runtime_params={"cv": {"folds": 2}}) == ["fold_0", "fold_1"]
    assert session_folds() == ["fold_0", "fold_1", "fold_2"]
    # What `kedro viz run --env demo --params cv.folds=4` builds its graph from (no hooks).
    _, viz_pipelines, _ = load_data(project, env="demo", extra_params={"cv": {"folds": 4}})
    assert folds_of(viz_pipelines["submission"]) == [f"fold_{k}" for k in range(4)]


RELOAD_IN_A_NOTEBOOK = """
import base64
import json
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
def folds():
    nodes = shell.user_ns["pipelines"]["modelling"].nodes
    return sorted({node.namespace.split(".")[0] for node in nodes if node.namespace})
shell.run_line_magic("load_ext", "kedro.ipython")
shown = [folds()]
shell.run_line_magic("reload_kedro", "--env=demo --params=cv.folds=2")
shown.append(folds())
print(json.dumps(shown))
"""


def test_a_notebook_follows_reload_kedro_params(project):
    three_folds_in_conf_local(project)
    result = subprocess.run(
        [sys.executable, "-c", RELOAD_IN_A_NOTEBOOK],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"},
        timeout=300,
        check=True,
    )
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert shown == [["fold_0", "fold_1", "fold_2"], ["fold_0", "fold_1"]]


def test_a_packaged_run_builds_the_folds_of_its_params(project):
    result = subprocess.run(
        [sys.executable, "-m", "facial_keypoints", "--env", "demo"]
        + ["--params", f"cv.folds={FOLDS + 1}", "--to-nodes", f"fold_{FOLDS}.split_fold"],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "COLUMNS": "200"},
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Completed node: fold_{FOLDS}.split_fold" in result.stdout + result.stderr


@pytest.mark.xdist_group("trained_demo")
def test_viz_previews_the_report_the_submission_the_folds_and_the_plots(trained_demo):
    kedro(trained_demo, "viz", "build", "--include-previews", KEDRO_ENV="demo")
    api = trained_demo / "build" / "api"
    ids = {node["name"]: node["id"] for node in json.loads((api / "main").read_text())["nodes"]}

    def preview(name: str) -> tuple[str, Any]:
        shown = json.loads((api / "nodes" / ids[name]).read_text())
        return shown["preview_type"], shown["preview"]

    assert preview("metrics")[0] == "JSONPreview"
    assert "oof_rmse" in json.loads(preview("metrics")[1])
    kind, submission = preview("submission")
    assert kind == "TablePreview" and submission["columns"] == ["RowId", "Location"]
    assert len(submission["data"]) == 5
    assert preview("folds")[1]["columns"] == ["row", "fold", "group"]
    for plot in ("fold_rmse_plot", "keypoint_rmse_plot", "loss_curves_plot", "oof_faces_plot"):
        kind, image = preview(plot)
        assert kind == "ImagePreview" and base64.b64decode(image).startswith(b"\x89PNG")
    kind, raw = preview("training_raw")
    assert kind == "TablePreview" and raw["columns"][-1] == "Image"
    assert all(row[-1].endswith(" ...") and len(row[-1]) < 40 for row in raw["data"])
