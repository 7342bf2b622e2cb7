"""The package's structure holds at run time: Kedro commands build the pipelines without Keras."""

from __future__ import annotations

import json
import os
import subprocess
import sys

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
