"""End-to-end runs of the project through Kedro, on generated demo data in a scratch copy."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import mlflow
import nbformat
import numpy as np
import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from nbclient import NotebookClient

from facial_keypoints.arrays.synthetic import draw_faces, write_demo_files
from facial_keypoints.domain.keypoints import COLUMNS, SPECIALIST_GROUPS
from facial_keypoints.pipelines.data_engineering.nodes import validate_lookup
from facial_keypoints.pipelines.predict.nodes import (
    average_folds,
    combine_folds,
    make_submission,
    predict_test_views,
)
from tests.conftest import PROJECT_ROOT, latest
from tests.end_to_end.conftest import FOLDS, kedro_run, make_project, one_specialist

pytestmark = pytest.mark.slow

TWO_FOLDS = ("--params", f"cv.folds={FOLDS}")


def test_data_engineering_runs_end_to_end_on_demo_data(project):
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env="demo") as session:
        session.run(pipeline_names=["data_engineering"])
    data = project / "data" / "demo"
    raw = sorted(p.name for p in (data / "01_raw").iterdir())
    assert raw == ["IdLookupTable.csv", "SampleSubmission.csv", "test.csv", "training.csv"]
    training = np.load(data / "02_intermediate" / "training_faces.npz")
    assert training["images"].shape == (600, 96, 96)
    folds = pd.read_csv(data / "05_model_input" / "folds.csv")
    assert folds["row"].tolist() == list(range(1, 601))
    assert (folds["fold"] == 0).sum() == 120  # the holdout of cv.folds = 1
    augmented = np.load(data / "05_model_input" / "train_faces_augmented.npz")
    assert len(augmented["ids"]) == 2 * 600  # the original faces and their mirror images
    lookup = pd.read_csv(data / "02_intermediate" / "id_lookup.csv")
    assert set(lookup["ImageId"]) <= set(
        np.load(data / "02_intermediate" / "test_faces.npz")["ids"]
    )


def test_person_groups_from_the_command_line_keep_each_person_in_one_fold(project):
    raw = project / "data" / "01_raw"
    write_demo_files(raw, n_train=100, n_test=10, seed=0)
    rows = np.arange(1, 101)
    pd.DataFrame({"row": rows, "person": (rows - 1) // 5}).to_csv(raw / "people.csv", index=False)
    groups = "cv.groups=data/01_raw/people.csv"
    result = kedro_run(
        project, "--pipelines", "data_engineering", "--params", f"cv.folds=5,{groups}"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    folds = pd.read_csv(project / "data" / "05_model_input" / "folds.csv")
    assert (folds.groupby((folds["row"] - 1) // 5)["fold"].nunique() == 1).all()
    grouping = json.loads((project / "data" / "05_model_input" / "fold_grouping.json").read_text())
    assert grouping["unseen_people"] and grouping["groups_file"] == "data/01_raw/people.csv"
    pd.DataFrame({"row": rows[:-1], "person": 0}).to_csv(raw / "people.csv", index=False)
    result = kedro_run(project, "--pipelines", "data_engineering", "--params", groups)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: data/01_raw/people.csv does not match training.csv: 99 rows")
    assert "Traceback" not in result.stderr + result.stdout


def test_a_missing_raw_file_ends_the_run_with_how_to_get_it(project):
    result = kedro_run(project, "--pipelines", "data_engineering")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ") and "not found" in last
    assert "kaggle competitions download -c facial-keypoints-detection" in last
    assert "Traceback" not in result.stderr + result.stdout


def test_a_bad_pixel_ends_the_run_with_one_message_writes_nothing_and_fails_its_mlflow_run(
    project, own_mlflow_store
):
    store = own_mlflow_store
    raw = project / "data" / "01_raw"
    write_demo_files(raw, n_train=40, n_test=10, seed=0)
    training = pd.read_csv(raw / "training.csv")
    pixels = training.loc[6, "Image"].split()
    training.loc[6, "Image"] = " ".join([*pixels[:99], "300", *pixels[100:]])
    training.to_csv(raw / "training.csv", index=False)
    result = kedro_run(project, "--pipelines", "data_engineering")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert "training.csv row 7 (line 8): Image value 300 (value 100) is outside 0..255" in last
    assert "Traceback" not in result.stderr + result.stdout
    written = {p.name for p in (project / "data").rglob("*.npz")}
    assert not written & {"training_faces.npz", "training_clean.npz"}
    assert not (project / "data" / "05_model_input" / "folds.csv").exists()
    client = mlflow.MlflowClient(store)
    (run,) = client.search_runs([client.get_experiment_by_name("facial_keypoints").experiment_id])
    assert run.info.status == "FAILED"
    assert run.data.tags["error"] == last.removeprefix("Error: ")
    assert run.data.params["run.pipelines"] == "data_engineering"


@pytest.mark.xdist_group("trained_demo")
def test_a_run_killed_by_sigkill_mid_training_resumes_and_ends_as_an_uninterrupted_run(
    trained_demo, tmp_path, monkeypatch
):
    project = make_project(tmp_path, monkeypatch)
    for folder in ("02_intermediate", "03_primary", "05_model_input"):
        shutil.copytree(trained_demo / "data" / "demo" / folder, project / "data" / "demo" / folder)
    command = [
        sys.executable,
        "-m",
        "kedro",
        "run",
        "--env",
        "demo",
        "--nodes",
        "fold_0.split_fold,fold_0.train_full_model",  # the fold's faces are held in memory
        "--params",
        f"cv.folds={FOLDS},full_model.epochs=4,training.verbose=0",
    ]
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "COLUMNS": "300"}
    models = project / "data" / "demo" / "06_models"
    state = models / "checkpoints" / "fold_0" / "full_model" / "state.json"
    model_file = models / "fold_0" / "full_model.keras"  # versioned: a folder of saved versions

    killed = subprocess.Popen(
        command, cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 240
    while killed.poll() is None and time.monotonic() < deadline:
        if state.exists() and json.loads(state.read_text())["epochs_done"] >= 2:
            killed.send_signal(signal.SIGKILL)
            break
        time.sleep(0.05)
    assert killed.wait(60) == -signal.SIGKILL, "the run ended before it could be killed"
    assert not model_file.exists()
    done = json.loads(state.read_text())["epochs_done"]
    assert 2 <= done < 4

    resumed = subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"Resuming full_model after epoch {done}" in resumed.stdout + resumed.stderr
    assert not state.parent.exists()  # a finished run leaves no checkpoint behind
    resumed_model = keras.saving.load_model(latest(model_file))
    resumed_summary = json.loads((model_file.parent / "full_model_training.json").read_text())

    uninterrupted = subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert uninterrupted.returncode == 0, uninterrupted.stderr[-2000:]
    assert "Resuming" not in uninterrupted.stdout + uninterrupted.stderr
    model = keras.saving.load_model(latest(model_file))
    summary = json.loads((model_file.parent / "full_model_training.json").read_text())

    assert resumed_summary["epochs"] == summary["epochs"] == 4
    assert resumed_summary["history"]["val_rmse"] == pytest.approx(
        summary["history"]["val_rmse"], abs=1e-6
    )
    faces = np.load(project / "data" / "demo" / "02_intermediate" / "test_faces.npz")["images"]
    pixels = faces[..., None].astype("float32")
    np.testing.assert_allclose(
        resumed_model.predict(pixels, verbose=0), model.predict(pixels, verbose=0), atol=1e-5
    )


@pytest.mark.xdist_group("trained_demo")
def test_modelling_trains_every_fold_and_fits_the_combination_out_of_fold(trained_demo):
    models = trained_demo / "data" / "demo" / "06_models"
    for k in range(FOLDS):
        assert latest(models / f"fold_{k}" / "full_model.keras").is_file()
        assert sorted(p.stem for p in (models / f"fold_{k}" / "specialists").glob("*.keras")) == (
            sorted(SPECIALIST_GROUPS)
        )
    combination = json.loads(latest(models / "combination.json").read_text())
    assert list(combination["weights"]) == list(COLUMNS)
    assert combination["folds"] == FOLDS
    assert combination["oof_rmse"] <= combination["oof_rmse_full_model"] + 1e-6
    summary = json.loads((models / "fold_0" / "full_model_training.json").read_text())
    assert summary["epochs"] == 1 and summary["training_samples"] == 300
    oof = np.load(trained_demo / "data" / "demo" / "07_model_output" / "oof_predictions.npz")
    assert oof["ids"].tolist() == list(range(1, 601))  # every face predicted out of fold
    folds = pd.read_csv(trained_demo / "data" / "demo" / "05_model_input" / "folds.csv")
    assert oof["fold"].tolist() == folds["fold"].tolist()
    assert not list((models / "checkpoints").rglob("*.json"))  # finished runs leave no checkpoint


@pytest.mark.xdist_group("trained_demo")
def test_predict_and_reporting_write_the_submission_metrics_and_plots(trained_demo, monkeypatch):
    monkeypatch.chdir(trained_demo)
    result = kedro_run(
        trained_demo, "--env", "demo", "--pipelines", "predict,reporting", *TWO_FOLDS
    )
    assert result.returncode == 0, result.stderr[-2000:]
    data = trained_demo / "data" / "demo"
    submission = pd.read_csv(data / "07_model_output" / "submission.csv")
    lookup = pd.read_csv(data / "01_raw" / "IdLookupTable.csv")
    assert list(submission.columns) == ["RowId", "Location"]
    assert submission["RowId"].tolist() == lookup["RowId"].tolist()
    assert submission["Location"].between(0, 96).all()
    assert "kaggle competitions submit -c facial-keypoints-detection -f" in result.stdout
    metrics = json.loads((data / "08_reporting" / "metrics.json").read_text())
    assert {"oof_rmse", "per_keypoint", "per_model", "per_specialist", "per_fold"} <= set(metrics)
    assert metrics["per_model"]["mean_baseline"]["oof_rmse"] > metrics["oof_rmse"]
    assert metrics["ensemble"]["folds"] == FOLDS
    assert "final_combination" in result.stdout  # the metrics table is printed
    assert "average of the 2 folds" in result.stdout
    assert (
        "Estimated RMSE of this submission on faces of people also in training: "
        f"{metrics['ensemble']['estimated_rmse']:.4f} px" in result.stdout
    )
    plots = sorted(p.name for p in (data / "08_reporting").glob("*.png"))
    assert plots == [
        "fold_rmse.png",
        "keypoint_rmse.png",
        "loss_curves.png",
        "oof_faces.png",
        "test_faces.png",
    ]


@pytest.mark.xdist_group("trained_demo")
def test_kaggles_lookup_table_with_1783_generated_test_faces(trained_demo, kaggle_lookup, params):
    ids = np.sort(kaggle_lookup["ImageId"].unique())
    images, _ = draw_faces(len(ids), np.random.default_rng(0))
    models = trained_demo / "data" / "demo" / "06_models"
    load = keras.models.load_model
    specialists = {
        name: load(latest(models / "fold_0" / "specialists" / f"{name}.keras"))
        for name in SPECIALIST_GROUPS
    }
    test = {"images": images, "ids": ids}
    views = predict_test_views(
        test,
        json.loads(
            latest(
                trained_demo / "data" / "demo" / "05_model_input" / "flip_convention.json"
            ).read_text()
        ),
        params["combination"],
        params["specialists"],
        load(latest(models / "fold_0" / "full_model.keras")),
        **specialists,
    )
    combination = json.loads(latest(models / "combination.json").read_text())
    predictions = average_folds(combine_folds(test, {**combination, "folds": 1}, fold_0=views))
    lookup = validate_lookup(kaggle_lookup, {"images": images, "ids": ids})
    submission = make_submission(predictions, lookup)
    assert len(submission) == 27124
    assert submission["RowId"].tolist() == kaggle_lookup["RowId"].tolist()
    assert submission["Location"].notna().all()


@pytest.mark.xdist_group("trained_demo")
def test_exploration_notebook_runs_top_to_bottom(trained_demo, monkeypatch):
    notebook = nbformat.read(PROJECT_ROOT / "notebooks" / "exploration.ipynb", as_version=4)
    monkeypatch.setenv("KEDRO_ENV", "demo")
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(trained_demo)}},
    ).execute()
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output["output_type"] == "error"]
    text = "".join(
        str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", ""))
        for output in outputs
    )
    assert "final combination:" in text and "flip test-time augmentation" in text


@pytest.fixture
def trained_copy(trained_demo, tmp_path, monkeypatch) -> Path:
    """A private copy of the trained demo project, free to change and damage."""
    project = make_project(tmp_path, monkeypatch)
    shutil.copytree(trained_demo / "data", project / "data")
    return project


@pytest.mark.xdist_group("trained_demo")
def test_predict_reads_the_current_test_files(trained_copy, tmp_path):
    raw = trained_copy / "data" / "demo" / "01_raw"
    write_demo_files(tmp_path / "new", n_train=20, n_test=40, seed=9)
    for name in ("test.csv", "IdLookupTable.csv"):
        shutil.copy(tmp_path / "new" / name, raw / name)
    result = kedro_run(trained_copy, "--env", "demo", "--pipelines", "predict", *TWO_FOLDS)
    assert result.returncode == 0, result.stderr[-2000:]
    submission = pd.read_csv(trained_copy / "data" / "demo" / "07_model_output" / "submission.csv")
    lookup = pd.read_csv(raw / "IdLookupTable.csv")
    assert submission["RowId"].tolist() == lookup["RowId"].tolist()


@pytest.mark.xdist_group("trained_demo")
def test_a_failed_run_leaves_no_submission_to_upload_by_mistake(trained_copy):
    output = trained_copy / "data" / "demo" / "07_model_output"
    before = (output / "submission.csv").read_text()
    lookup = trained_copy / "data" / "demo" / "01_raw" / "IdLookupTable.csv"
    frame = pd.read_csv(lookup)
    frame.loc[0, "FeatureName"] = "left_ear_x"
    frame.to_csv(lookup, index=False)
    result = kedro_run(trained_copy, "--env", "demo", "--pipelines", "predict", *TWO_FOLDS)
    assert result.returncode == 1
    assert "FeatureName 'left_ear_x'" in result.stderr.strip().splitlines()[-1]
    assert not (output / "submission.csv").exists()
    assert (output / "submission.previous.csv").read_text() == before  # set aside, not lost


@pytest.mark.xdist_group("trained_demo")
def test_a_damaged_model_file_is_named_with_the_command_that_retrains_it(trained_copy):
    model = latest(trained_copy / "data" / "demo" / "06_models" / "fold_1" / "full_model.keras")
    model.write_bytes(model.read_bytes()[:5000])
    result = kedro_run(trained_copy, "--env", "demo", "--pipelines", "predict", *TWO_FOLDS)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ") and "full_model.keras is damaged" in last, last
    assert "kedro run --pipelines modelling" in last
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.xdist_group("trained_demo")
def test_a_damaged_checkpoint_is_set_aside_and_the_run_trains_afresh(trained_copy):
    checkpoints = trained_copy / "data" / "demo" / "06_models" / "checkpoints" / "fold_0"
    (checkpoints / "full_model").mkdir(parents=True)
    (checkpoints / "full_model" / "state.json").write_bytes(b"\x00garbage")
    result = kedro_run(
        trained_copy,
        "--env",
        "demo",
        "--nodes",
        "fold_0.split_fold,fold_0.train_full_model",
        "--params",
        f"cv.folds={FOLDS},full_model.epochs=1,training.verbose=0",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "The checkpoint of full_model cannot be read" in result.stdout + result.stderr
    assert (checkpoints / "full_model.damaged" / "state.json").exists()


@pytest.mark.xdist_group("trained_demo")
def test_one_fold_reruns_alone_by_its_namespace(trained_copy):
    models = trained_copy / "data" / "demo" / "06_models"
    before = {k: latest(models / f"fold_{k}" / "full_model.keras") for k in (0, 1)}
    result = kedro_run(
        trained_copy,
        "--env",
        "demo",
        "--namespaces",
        "fold_1",
        "--params",
        f"cv.folds={FOLDS},full_model.epochs=1,specialists.epochs=1,training.verbose=0",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    after = {k: latest(models / f"fold_{k}" / "full_model.keras") for k in (0, 1)}
    assert after[0] == before[0] and after[1] > before[1]  # a new version of fold 1's alone
    assert "fold_1.train_full_model" in result.stdout + result.stderr
    assert "fold_0." not in result.stdout + result.stderr


@pytest.mark.xdist_group("trained_demo")
def test_predicting_with_other_folds_than_trained_is_one_clear_error(trained_copy):
    result = kedro_run(trained_copy, "--env", "demo", "--pipelines", "predict")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert "The trained models come from cv.folds = 2, but this run has cv.folds = 1" in last
    assert "--params cv.folds=2" in last


def snapshot(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every path under ``folder`` with its mode, modification time and content."""
    return {
        str(path.relative_to(folder)): (
            path.stat().st_mode,
            path.stat().st_mtime_ns,
            path.read_bytes() if path.is_file() else b"",
        )
        for path in sorted(folder.rglob("*"))
    }


def test_the_kaggle_environment_reads_the_mounted_input_and_writes_only_under_working(
    tmp_path, monkeypatch
):
    (tmp_path / "project").mkdir()
    project = make_project(tmp_path / "project", monkeypatch)
    raw = tmp_path / "input" / "facial-keypoints-detection"
    write_demo_files(raw, n_train=100, n_test=20, seed=1, zipped=True)  # as Kaggle ships them
    for path in [*raw.iterdir(), raw]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    before = snapshot(tmp_path / "input")
    working = tmp_path / "working"
    monkeypatch.setenv("FKD_RAW_ROOT", str(raw))
    monkeypatch.setenv("FKD_WORKING_ROOT", str(working))
    monkeypatch.delenv("MLFLOW_TRACKING_URI")  # the kaggle environment's own store
    one_specialist(project, "kaggle")
    result = kedro_run(
        project,
        "--env",
        "kaggle",
        "--params",
        "full_model.epochs=1,specialists.epochs=1,training.verbose=0",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert snapshot(tmp_path / "input") == before  # nothing written, changed or added there
    submission = pd.read_csv(working / "data" / "07_model_output" / "submission.csv")
    lookup = pd.read_csv(raw / "IdLookupTable.csv")
    assert submission["RowId"].tolist() == lookup["RowId"].tolist()
    assert (working / "mlflow.db").is_file()
    assert not (project / "data").exists()


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_the_gpu_profile_runs_end_to_end_under_jax(tmp_path, monkeypatch):
    project = make_project(tmp_path, monkeypatch)
    write_demo_files(project / "data" / "01_raw", n_train=100, n_test=20, seed=2)
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    one_specialist(project, "gpu")
    result = kedro_run(
        project,
        "--env",
        "gpu",
        "--params",
        "full_model.epochs=1,specialists.epochs=1,training.verbose=0",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    submission = pd.read_csv(project / "data" / "07_model_output" / "submission.csv")
    lookup = pd.read_csv(project / "data" / "01_raw" / "IdLookupTable.csv")
    assert submission["RowId"].tolist() == lookup["RowId"].tolist()
    assert submission["Location"].between(0, 96).all()
    client = mlflow.MlflowClient()
    (run,) = client.search_runs(
        [client.get_experiment_by_name("facial_keypoints").experiment_id],
        filter_string="params.`architectures.compact.dense_units` = '1024'",
    )
    assert run.data.params["run.keras_backend"] == "jax"
