"""What an MLflow run records, as plain values (hooks/run_record.py, domain/nested.py); the runs themselves are in test_mlflow."""

from __future__ import annotations

import shlex
import subprocess

import kedro
import mlflow
import pytest

from facial_keypoints.domain import nested
from facial_keypoints.domain.params import CVParams
from facial_keypoints.hooks import run_record


def test_parameters_flatten_to_dotted_keys_through_models_and_mappings():
    cv = CVParams(
        folds=5, seed=1, validation_fraction=0.2, duplicate_threshold=5.0, groups="people.csv"
    )
    flat = nested.flatten({"cv": cv, "full_model": {"optimizer": {"learning_rate": 0.002}}})
    assert flat == {
        "cv.folds": 5,
        "cv.seed": 1,
        "cv.validation_fraction": 0.2,
        "cv.duplicate_threshold": 5.0,
        "cv.groups": "people.csv",
        "full_model.optimizer.learning_rate": 0.002,
    }
    assert nested.flatten({"enabled": ["a", "b"], "overrides": {}}) == {
        "enabled": ["a", "b"],
        "overrides": {},
    }


def test_metrics_are_the_finite_numbers_of_a_report():
    report = {
        "oof_rmse": 1.3,
        "folds": 5,
        "per_model": {"mean_baseline": {"oof_rmse": 3.7, "seconds": None}},
        "combination": {"flip_tta": True, "main_model": {"full_model": 12}},
        "worst_keypoints": ["nose_tip_x"],
        "ensemble": {"gain": float("nan")},
    }
    assert nested.numbers(report) == {
        "oof_rmse": 1.3,
        "folds": 5.0,
        "per_model.mean_baseline.oof_rmse": 3.7,
        "combination.main_model.full_model": 12.0,
    }


def test_a_training_history_is_one_step_per_epoch_from_1():
    summary = {"history": {"rmse": [3.0, 2.0], "val_rmse": [2.5, 2.1], "loss": [9.0, 4.0]}}
    assert list(run_record.history(summary, "fold_0.full_model")) == [
        ("fold_0.full_model.rmse", 3.0, 1),
        ("fold_0.full_model.rmse", 2.0, 2),
        ("fold_0.full_model.val_rmse", 2.5, 1),
        ("fold_0.full_model.val_rmse", 2.1, 2),
    ]


def test_the_git_state_names_the_commit_and_a_changed_tracked_file(tmp_path):
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    assert run_record.git_state(tmp_path) == {"git.commit": "none (not a git checkout)"}
    git("init", "-q")
    (tmp_path / "code.py").write_text("a = 1\n")
    git("add", "code.py")
    git("commit", "-q", "-m", "first")
    commit = git("rev-parse", "HEAD")
    (tmp_path / "data.csv").write_text("untracked output\n")
    assert run_record.git_state(tmp_path) == {"git.commit": commit, "git.dirty": "false"}
    (tmp_path / "code.py").write_text("a = 2\n")
    assert run_record.git_state(tmp_path) == {"git.commit": commit, "git.dirty": "true"}


def test_the_fingerprint_of_a_file_is_its_sha256(tmp_path):
    path = tmp_path / "training.csv"
    path.write_bytes(b"abc")
    expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert run_record.sha256(path) == expected


@pytest.mark.parametrize("env", [None, "demo"])
def test_the_rebuild_command_pins_every_version_and_parses_back(env):
    command = run_record.rebuild_command(
        env,
        {"cv.folds": 2, "combination.flip_tta": "auto"},
        {
            "fold_0.full_model": "2026-12-02T04.24.34.438Z",
            "combination": "2026-12-01T00.00.00.000Z",
        },
    )
    words = shlex.split(command)
    assert words[:4] == ["kedro", "run", "--pipelines", "predict"]
    assert ("--env" in words) == (env is not None)
    assert words[words.index("--params") + 1] == "cv.folds=2,combination.flip_tta=auto"
    assert words[words.index("--load-versions") + 1] == (
        "combination:2026-12-01T00.00.00.000Z,fold_0.full_model:2026-12-02T04.24.34.438Z"
    )


def test_versions_name_the_installed_packages():
    found = run_record.versions()
    assert found["version.kedro"] == kedro.__version__
    assert found["version.mlflow"] == mlflow.__version__
    assert "version.pandas" not in found  # only the packages listed
