"""Runs that share a project, a full disk, a tracking store that fails or is gone, a killed run,
damaged artefacts, a run started from a subfolder: each through `kedro run`, one line, nothing lost."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from tests.conftest import latest
from tests.end_to_end.conftest import (
    free_port,
    kedro_run,
    make_project,
    one_specialist,
    output,
    start_run,
)

pytestmark = pytest.mark.slow

QUICK = "full_model.epochs=2,specialists.epochs=1,training.verbose=0"


def holding(project: Path, run: subprocess.Popen) -> dict:
    """Wait until ``run`` holds the demo data folder and has named its MLflow run."""
    lock = project / "data" / "demo" / ".run.lock"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and run.poll() is None:
        facts = json.loads(lock.read_text() or "{}") if lock.exists() else {}
        if facts.get("pid") == run.pid and "mlflow_run" in facts:
            return facts
        time.sleep(0.2)
    raise AssertionError(f"the run never held {lock}: {output(project, run)[-2000:]}")


def runs(store: str) -> list:
    """Every MLflow run of the store at ``store``, newest first."""
    client = mlflow.MlflowClient(store)
    experiments = [experiment.experiment_id for experiment in client.search_experiments()]
    return client.search_runs(experiments, order_by=["attributes.start_time DESC"])


@pytest.mark.parametrize("rates", [("0.001", "0.002"), ("0.002", "0.001"), ("0.001", "0.001")])
def test_a_second_run_in_the_same_data_folder_refuses_at_once(project, own_mlflow_store, rates):
    one_specialist(project, "demo")
    first, second = rates
    holder = start_run(
        project, "--env", "demo", "--params", f"{QUICK},full_model.optimizer.learning_rate={first}"
    )
    held = holding(project, holder)
    started = time.monotonic()
    refused = kedro_run(
        project, "--env", "demo", "--params", f"{QUICK},full_model.optimizer.learning_rate={second}"
    )
    assert refused.returncode == 1 and time.monotonic() - started < 60
    last = refused.stderr.strip().splitlines()[-1]
    assert last.startswith(f"Error: Another run is using {project / 'data' / 'demo'}: MLflow run ")
    assert held["mlflow_run"] in last and str(held["pid"]) in last
    printed = output(project, holder)
    assert holder.returncode == 0, printed[-3000:]
    # The holder submitted from its own models: one version of each, its MLflow run's.
    versions = {p.name for p in (project / "data/demo/06_models/fold_0/full_model.keras").iterdir()}
    assert len(versions) == 1 and versions.pop() in printed
    (finished,) = runs(own_mlflow_store)  # the refused run opened no MLflow run
    assert finished.info.status == "FINISHED"
    assert finished.data.params["full_model.optimizer.learning_rate"] == first
    assert "Disk: this run wrote" in printed


def test_sigterm_ends_the_run_killed_and_a_run_killed_9_is_found_dead(project, own_mlflow_store):
    one_specialist(project, "demo")

    def status(held: dict) -> mlflow.entities.Run:
        return next(run for run in runs(own_mlflow_store) if run.info.run_id in held["mlflow_run"])

    terminated = start_run(project, "--env", "demo", "--params", "full_model.epochs=50")
    held = holding(project, terminated)
    deadline = time.monotonic() + 300
    while "train_full_model" not in (project / "run.log").read_text():  # training
        assert time.monotonic() < deadline and terminated.poll() is None
        time.sleep(0.5)
    time.sleep(2)
    os.kill(terminated.pid, signal.SIGTERM)
    assert "Aborted!" in output(project, terminated) and terminated.returncode == 1
    assert status(held).info.status == "KILLED"

    killed = start_run(project, "--env", "demo", "--params", "full_model.epochs=50")
    held = holding(project, killed)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait(timeout=60)
    assert status(held).info.status == "RUNNING"
    assert kedro_run(project, "--env", "demo", "--pipelines", "data_engineering").returncode == 0
    assert status(held).info.status == "KILLED"
    assert f"process {held['pid']} had ended" in status(held).data.tags["killed.found_dead"]


def test_an_unreachable_tracking_server_is_one_masked_line_in_seconds(project):
    uri = f"http://bob:s3cret@127.0.0.1:{free_port()}"
    started = time.monotonic()
    result = kedro_run(project, "--env", "demo", env={"MLFLOW_TRACKING_URI": uri})
    assert result.returncode == 1 and time.monotonic() - started < 30
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: The MLflow tracking server http://bob:***@127.0.0.1:")
    assert "FACIAL_KEYPOINTS_TRACKING=off" in last
    assert "s3cret" not in result.stdout + result.stderr
    assert not (project / "data" / "demo" / "02_intermediate").exists()  # no node ran
    untracked = kedro_run(
        project,
        "--env",
        "demo",
        "--pipelines",
        "data_engineering",
        env={"MLFLOW_TRACKING_URI": uri, "FACIAL_KEYPOINTS_TRACKING": "off"},
    )
    assert untracked.returncode == 0, untracked.stderr[-2000:]
    assert not (project / "mlflow.db").exists()


def test_kedro_run_from_a_subfolder_uses_the_projects_folders(project, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI")  # the project's own store, sqlite:///mlflow.db
    (project / "notebooks").mkdir()
    result = kedro_run(project / "notebooks", "--env", "demo", "--pipelines", "data_engineering")
    assert result.returncode == 0, result.stderr[-2000:]
    assert (project / "data" / "demo" / "05_model_input" / "folds.csv").is_file()
    assert (project / "mlflow.db").is_file()
    assert list((project / "notebooks").iterdir()) == []


@pytest.fixture
def damaged(trained_demo, tmp_path, monkeypatch) -> Path:
    """A private copy of the trained demo project, free to damage."""
    project = make_project(tmp_path, monkeypatch)
    shutil.copytree(trained_demo / "data", project / "data")
    return project


def out_of_range(folds: pd.DataFrame) -> None:
    folds.loc[3, "fold"] = 7


def missing_rows(folds: pd.DataFrame) -> pd.DataFrame:
    return folds.iloc[:100]


def not_a_number(folds: pd.DataFrame) -> None:
    folds["fold"] = folds["fold"].astype(object)
    folds.loc[3, "fold"] = "x"


@pytest.mark.xdist_group("trained_demo")
@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (out_of_range, "puts row 4 in fold 7, but cv.folds = 2 allows [0, 1]"),
        (missing_rows, "of the training faces"),
        (not_a_number, "has fold 'x' on line 5: expected a whole number >= -1"),
    ],
)
def test_a_damaged_folds_csv_is_one_line_and_no_model_is_trained(damaged, damage, says):
    path = damaged / "data" / "demo" / "05_model_input" / "folds.csv"
    folds = pd.read_csv(path)
    folds = damage(folds) if damage is missing_rows else (damage(folds) or folds)
    folds.to_csv(path, index=False)
    models = damaged / "data" / "demo" / "06_models" / "fold_0" / "full_model.keras"
    before = sorted(p.name for p in models.iterdir())
    result = kedro_run(
        damaged, "--env", "demo", "--pipelines", "modelling", "--params", "cv.folds=2"
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert says in last and "kedro run --pipelines data_engineering" in last, last
    assert sorted(p.name for p in models.iterdir()) == before


@pytest.mark.xdist_group("trained_demo")
@pytest.mark.parametrize(
    ("artefact", "content", "says"),
    [
        ("06_models/combination.json", "{}", "has folds: Field required"),
        ("05_model_input/flip_convention.json", '{"mirror": "left"}', "has mirror: "),
    ],
)
def test_a_damaged_json_artefact_is_one_line_naming_it(damaged, artefact, content, says):
    path = latest(damaged / "data" / "demo" / artefact)
    path.write_text(content)
    result = kedro_run(damaged, "--env", "demo", "--pipelines", "predict", "--params", "cv.folds=2")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"Error: {path} {says}") and "Write it again with `kedro run" in last


def can_mount_tmpfs() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("mount") is not None


@pytest.mark.skipif(not can_mount_tmpfs(), reason="mounting a small tmpfs needs root")
def test_a_full_disk_is_one_line_and_every_earlier_artefact_stays(project, tmp_path):
    disk = tmp_path / "small"
    disk.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(disk)]
    if subprocess.run(mount, capture_output=True, check=False).returncode:
        pytest.skip("this machine does not let even root mount a tmpfs")
    try:
        tiny = project / "conf" / "tiny"
        shutil.copytree(project / "conf" / "demo", tiny)
        (tiny / "globals.yml").write_text(
            f"data_root: {disk / 'data'}\nraw_root: {project / 'data' / 'demo' / '01_raw'}\n"
        )
        result = kedro_run(project, "--env", "tiny", "--params", QUICK)
        assert result.returncode == 1
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith(f"Error: No space left on {disk / 'data'}")
        assert "free" in last and "MB" in last
        assert "Traceback" not in result.stderr and "Segmentation" not in result.stderr
        with np.load(disk / "data" / "03_primary" / "training_clean.npz") as clean:
            assert len(clean["images"]) == 600
        assert not list(disk.rglob("*.tmp*"))
    finally:
        subprocess.run(["umount", "--lazy", str(disk)], check=False)
