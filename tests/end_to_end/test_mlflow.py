"""Runs tracked in MLflow: a real ``mlflow server`` records two demo runs through
``MLFLOW_TRACKING_URI``; each run keeps its submission, and an earlier one is rebuilt from its
models; a stopped run is KILLED, an untracked pipeline records nothing. (A failed run's FAILED
status and error: test_run.py, with the bad pixel.)"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.entities import Run

from facial_keypoints.arrays.synthetic import write_demo_files
from tests.end_to_end.conftest import free_port, kedro_run, make_project, one_specialist

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("mlflow_server")]

EXPERIMENT = "facial_keypoints_demo"  # conf/demo/mlflow.yml
QUICK = "full_model.epochs=2,specialists.epochs=1,training.verbose=0"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    """A real MLflow tracking server: SQLite backend, local artifact folder, a free port."""
    folder = tmp_path_factory.mktemp("server")
    port = free_port()
    command = [
        *(sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port)),
        *("--backend-store-uri", f"sqlite:///{folder / 'server.db'}"),
        *("--artifacts-destination", str(folder / "artifacts"), "--workers", "1"),
    ]
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert process.poll() is None, (folder / "server.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "mlflow server did not start in 120 s"
            time.sleep(0.25)
        yield uri
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def download(run: Run, artifact: str, uri: str) -> Path:
    """A run's artifact, fetched from the server."""
    return Path(
        mlflow.artifacts.download_artifacts(
            run_id=run.info.run_id, artifact_path=artifact, tracking_uri=uri
        )
    )


def runs(uri: str) -> list[Run]:
    """The demo experiment's runs on the server, oldest first."""
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    found = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])
    return list(found)


@pytest.fixture(scope="module")
def two_runs(server, tmp_path_factory) -> dict[str, object]:
    """Two demo runs of every pipeline, differing in the full model's learning rate."""
    project = tmp_path_factory.mktemp("tracked")
    with pytest.MonkeyPatch.context() as patch:
        make_project(project, patch)
        one_specialist(project, "demo")
        patch.setenv("MLFLOW_TRACKING_URI", server)
        submissions = []
        for rate in ("0.002", "0.001"):
            result = kedro_run(
                project,
                "--env",
                "demo",
                "--params",
                f"{QUICK},full_model.optimizer.learning_rate={rate}",
            )
            assert result.returncode == 0, result.stderr[-3000:]
            path = project / "data" / "demo" / "07_model_output" / "submission.csv"
            submissions.append(path.read_text())
    first, second = runs(server)
    return {"project": project, "runs": (first, second), "submissions": submissions}


def test_the_server_holds_a_runs_parameters_metrics_history_and_submission(server, two_runs):
    run, _ = two_runs["runs"]
    project = two_runs["project"]
    client = mlflow.MlflowClient(server)
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["full_model.epochs"] == "2"
    assert params["full_model.optimizer.learning_rate"] == "0.002"
    assert params["run.env"] == "demo"
    assert params["run.keras_backend"] in {"tensorflow", "jax", "torch"}
    reported = json.loads(download(run, "metrics.json", server).read_text())
    assert run.data.metrics["oof_rmse"] == pytest.approx(reported["oof_rmse"])
    assert run.data.metrics["run.seconds"] > 0
    history = client.get_metric_history(run.info.run_id, "fold_0.full_model.val_rmse")
    assert [point.step for point in history] == [1, 2]
    tags = run.data.tags
    assert tags["data.training_raw"].startswith("training.csv sha256:")
    assert tags["version.mlflow"] == mlflow.__version__
    lookup = pd.read_csv(project / "data" / "demo" / "01_raw" / "IdLookupTable.csv")
    assert len(pd.read_csv(download(run, "submission.csv", server))) == len(lookup)
    artifacts = {item.path for item in client.list_artifacts(run.info.run_id)}
    assert {
        "submission.csv",
        "metrics.json",
        "combination.json",
        "flip_convention.json",
    } <= artifacts
    assert {"plots", "models"} <= artifacts


def test_two_runs_differ_by_their_parameter_and_each_keeps_its_submission(server, two_runs):
    first, second = two_runs["runs"]
    differing = {
        key
        for key in first.data.params.keys() & second.data.params.keys()
        if first.data.params[key] != second.data.params[key]
    }
    assert differing == {"full_model.optimizer.learning_rate"}
    assert first.data.metrics["oof_rmse"] != second.data.metrics["oof_rmse"]
    kept = [download(run, "submission.csv", server).read_text() for run in (first, second)]
    assert kept == two_runs["submissions"] and kept[0] != kept[1]


def test_an_earlier_runs_submission_is_written_again_from_its_models(server, two_runs, monkeypatch):
    first, _ = two_runs["runs"]
    project = two_runs["project"]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server)
    command = shlex.split(first.data.tags["rebuild_command"])
    assert command[:4] == ["kedro", "run", "--pipelines", "predict"]
    result = kedro_run(project, *command[2:])
    assert result.returncode == 0, result.stderr[-3000:]
    path = project / "data" / "demo" / "07_model_output" / "submission.csv"
    assert path.read_text() == two_runs["submissions"][0]


def test_a_run_stopped_with_ctrl_c_is_marked_killed(tmp_path, monkeypatch, own_mlflow_store):
    project = make_project(tmp_path, monkeypatch)
    uri = own_mlflow_store
    run = subprocess.Popen(
        [sys.executable, "-m", "kedro", "run", "--env", "demo"],
        cwd=project,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert run.stdout is not None
    # Stopped as soon as its MLflow run starts: later, TensorFlow's threads sometimes abort the
    # process on SIGINT before Python can exit (with tracking off too), and nothing is recorded.
    for line in run.stdout:
        if "has started" in line:
            break
    run.send_signal(signal.SIGINT)
    run.communicate(timeout=120)
    assert run.returncode == 1
    client = mlflow.MlflowClient(uri)
    (stopped,) = client.search_runs([client.get_experiment_by_name(EXPERIMENT).experiment_id])
    assert stopped.info.status == "KILLED"


def test_a_pipeline_listed_in_disable_tracking_runs_and_records_nothing(
    tmp_path, monkeypatch, own_mlflow_store
):
    project = make_project(tmp_path, monkeypatch)
    uri = own_mlflow_store
    write_demo_files(project / "data" / "01_raw", n_train=40, n_test=10, seed=0)
    (project / "conf" / "local" / "mlflow.yml").write_text(
        "tracking:\n  disable_tracking:\n    pipelines: [data_engineering]\n"
    )
    result = kedro_run(project, "--pipelines", "data_engineering")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (project / "data" / "05_model_input" / "folds.csv").is_file()
    client = mlflow.MlflowClient(uri)
    assert (
        client.search_runs([client.get_experiment_by_name("facial_keypoints").experiment_id]) == []
    )
