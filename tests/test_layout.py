"""The package's structure holds at run time: Kedro commands build the pipelines without Keras."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from facial_keypoints import pipelines as package
from facial_keypoints.pipeline_registry import register_pipelines
from tests.conftest import PROJECT_ROOT

BUILD_WITHOUT_RUNNING = """
import json, sys
from kedro.framework.project import configure_project
configure_project("facial_keypoints")
import facial_keypoints.settings
from facial_keypoints.pipeline_registry import register_pipelines
pipelines = register_pipelines()
heavy = sorted(name for name in ("keras", "tensorflow", "jax", "torch") if name in sys.modules)
print(json.dumps({"pipelines": sorted(pipelines), "heavy": heavy}))
"""


def test_settings_hooks_and_every_pipeline_load_without_keras():
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"}
    result = subprocess.run(
        [sys.executable, "-c", BUILD_WITHOUT_RUNNING],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
    assert {"data_engineering", "modelling", "reporting", "predict", "submission"} <= set(
        report["pipelines"]
    )


EXTRA_PIPELINE = """
from kedro.pipeline import Node, Pipeline


def create_pipeline(**kwargs):
    return Pipeline([Node(lambda metrics: None, "metrics", None, name="extra_node")])
"""


def test_a_new_pipeline_package_is_registered_and_joins_submission(tmp_path, monkeypatch):
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "__init__.py").write_text(EXTRA_PIPELINE)  # as `kedro pipeline create`
    monkeypatch.setattr(package, "__path__", [*package.__path__, str(tmp_path)])
    pipelines = register_pipelines()
    assert "extra" in pipelines
    assert "extra_node" in {node.name for node in pipelines["submission"].nodes}
    assert {"parse_test", "validate_lookup"} <= {node.name for node in pipelines["predict"].nodes}


KEDRO_COMMAND_THEN_MODULES = """
import json, sys
from kedro.framework.cli.cli import main
sys.argv = ["kedro", *sys.argv[1:]]
try:
    main()
except SystemExit as exit:
    code = exit.code
heavy = sorted(m for m in ("mlflow", "keras", "tensorflow", "jax") if m in sys.modules)
print(json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


def kedro_in_process(*args: str) -> tuple[dict, str]:
    """A ``kedro`` command in a fresh process from the project root: its exit code and the heavy
    packages it imported, and what it printed."""
    result = subprocess.run(
        [sys.executable, "-c", KEDRO_COMMAND_THEN_MODULES, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"},
        cwd=PROJECT_ROOT,
        timeout=120,
        check=False,
    )
    return json.loads(result.stderr.strip().splitlines()[-1]), result.stdout + result.stderr


def test_kedro_registry_list_starts_without_mlflow_or_keras_and_prints_no_warning():
    report, output = kedro_in_process("registry", "list")
    assert report == {"code": 0, "heavy": []}
    assert "WARNING" not in output and "Warning" not in output


def test_kedro_mlflows_commands_are_still_there_when_asked_for():
    report, output = kedro_in_process("mlflow", "--help")
    assert report["code"] == 0
    assert "ui" in output and "mlflow" in report["heavy"]
