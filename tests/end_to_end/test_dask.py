"""`kedro run --runner facial_keypoints.runners.DaskRunner` on demo faces: the same submission as a
sequential run, the folds trained at the same time on two workers, and one MLflow run that records
what a sequential run records."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from tests.end_to_end.conftest import FOLDS, kedro_run, make_project

pytestmark = pytest.mark.slow

QUICK = f"cv.folds={FOLDS},full_model.epochs=1,specialists.epochs=1,training.verbose=0"
DASK = ("--runner", "facial_keypoints.runners.DaskRunner")
COMPLETED = re.compile(r"Completed node: (\S+) on worker (\S+) \(([\d.]+) s from (\S+)\)")
#: How far a Dask run's submission may be from the sequential run's, in pixels: a model trained on a
#: worker is the one the same seed trains anywhere on this CPU (docs/robustness.md, "Determinism").
TOLERANCE_PX = 1e-6


def runs_of(store: str) -> list:
    """Every MLflow run of the store at ``store``."""
    client = mlflow.MlflowClient(store)
    return client.search_runs([e.experiment_id for e in client.search_experiments()])


def artifacts(client: mlflow.MlflowClient, run_id: str, path: str | None = None) -> set[str]:
    """The paths of every artifact of run ``run_id`` under ``path``."""
    found = set()
    for item in client.list_artifacts(run_id, path):
        found |= artifacts(client, run_id, item.path) if item.is_dir else {item.path}
    return found


def submission(project: Path) -> pd.DataFrame:
    return pd.read_csv(project / "data" / "demo" / "07_model_output" / "submission.csv")


def test_a_dask_run_trains_the_folds_on_two_workers_at_once_into_one_mlflow_run(
    tmp_path, monkeypatch, own_mlflow_store
):
    sequential = make_project(tmp_path / "sequential", monkeypatch)
    sequential_store = f"sqlite:///{tmp_path / 'sequential-mlflow.db'}"
    dask = make_project(tmp_path / "dask", monkeypatch)
    result = kedro_run(
        sequential,
        "--env",
        "demo",
        "--params",
        QUICK,
        env={"MLFLOW_TRACKING_URI": sequential_store},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    result = kedro_run(dask, "--env", "demo", "--params", QUICK, *DASK)
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert "Dask: a local cluster, 2 workers" in log

    pd.testing.assert_frame_equal(
        submission(dask), submission(sequential), check_exact=False, rtol=0, atol=TOLERANCE_PX
    )

    completed = {
        name: (worker, datetime.fromisoformat(start), timedelta(seconds=float(seconds)))
        for name, worker, seconds, start in COMPLETED.findall(log)
    }
    (worker_0, start_0, took_0), (worker_1, start_1, took_1) = (
        completed[f"fold_{k}.train_full_model"] for k in range(FOLDS)
    )
    assert worker_0 != worker_1
    assert start_1 < start_0 + took_0 and start_0 < start_1 + took_1  # at the same time

    (run,) = runs_of(own_mlflow_store)
    (reference,) = runs_of(sequential_store)
    assert run.info.status == "FINISHED"
    assert set(run.data.metrics) == set(reference.data.metrics)
    assert set(run.data.tags) == set(reference.data.tags)
    assert artifacts(mlflow.MlflowClient(own_mlflow_store), run.info.run_id) == artifacts(
        mlflow.MlflowClient(sequential_store), reference.info.run_id
    )


def test_a_users_error_in_a_worker_ends_the_run_in_one_line(project):
    result = kedro_run(project, "--pipelines", "data_engineering", *DASK)  # no raw files
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ") and "not found" in last
    assert "kaggle competitions download -c facial-keypoints-detection" in last
    assert "Traceback" not in result.stderr + result.stdout


def test_a_scheduler_that_cannot_be_reached_ends_the_run_in_one_line(project, monkeypatch):
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:9")  # the discard port
    result = kedro_run(
        project,
        "--env",
        "demo",
        "--params",
        "dask.connect_timeout=1",
        "--pipelines",
        "data_engineering",
        *DASK,
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "Error: The Dask scheduler tcp://127.0.0.1:9 (DASK_SCHEDULER_ADDRESS) cannot be reached"
    )
    assert "unset it to run on a local cluster" in last
    assert "Traceback" not in result.stderr + result.stdout
