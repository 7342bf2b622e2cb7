"""The tune pipeline in memory: trials of the modelling pipeline on the data_engineering outputs
(tests/pipelines/conftest.py), in a SQLite study of the test's own."""

from __future__ import annotations

import math
import os

import pytest
from matplotlib.figure import Figure

from facial_keypoints.domain import nested
from facial_keypoints.domain.params import check_block
from facial_keypoints.pipelines import modelling, tune
from tests.conftest import changed
from tests.pipelines.conftest import FOLDS, run_in_memory, tiny_params

PREPARED = ("training_clean", "folds", "flip_convention")

# The study's orchestration has no backend of its own: the JAX pass of `make test` trains the
# modelling pipeline it runs in tests/pipelines/modelling already.
pytestmark = pytest.mark.skipif(
    os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
    reason="backend-free orchestration; runs in the TensorFlow pass",
)


def study_run(runs, tmp_path, **tune_changes) -> dict:
    """The tune pipeline on tiny models, ``tune_changes`` over the demo profile's ``tune``."""
    params = tiny_params(tmp_path)
    params["cv"] = changed(params["cv"], folds=FOLDS)
    raw = {key: value.model_dump() for key, value in params.items()}
    raw["tune"] = {
        **raw["tune"],
        "storage": f"sqlite:///{tmp_path}/study.db",
        "sampler": {"name": "random", "seed": 0, "n_startup_trials": 0},
        **tune_changes,
    }
    params["tune"] = check_block(raw, "tune")
    pipeline = tune.create_pipeline(folds=FOLDS, trial=modelling.create_pipeline(folds=FOLDS))
    inputs = {name: runs["data_engineering"][name] for name in PREPARED}
    return {"raw": raw, **run_in_memory(pipeline, {**inputs, "parameters": raw}, params)}


@pytest.mark.slow
def test_tune_wiring(runs, tmp_path):
    space = {
        "full_model.optimizer.learning_rate": {"low": 0.001, "high": 0.004, "log": True},
        "architectures.compact.dropout": {"low": 0.1, "high": 0.4, "log": False},
    }
    out = study_run(runs, tmp_path, n_trials=2, space=space)
    trials = out["tune_trials"]
    assert trials["state"].tolist() == ["COMPLETE", "COMPLETE"]
    assert trials["base"].tolist() == [True, False]
    base = trials.iloc[0]
    flat = nested.flatten(out["raw"])
    assert {name: base[name] for name in space} == {name: flat[name] for name in space}
    for k in range(FOLDS):
        assert trials[f"fold_{k}_rmse"].map(math.isfinite).all()
    best = trials.loc[trials["value"].idxmin()]
    assert nested.flatten(out["best_params"]) == {name: best[name] for name in space}
    assert isinstance(out["tune_history_plot"], Figure)
    assert isinstance(out["tune_importance_plot"], Figure)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Fixed parameter .* is out of range")  # the base, on purpose
def test_a_trial_worse_than_the_median_after_its_first_fold_is_pruned(runs, tmp_path):
    out = study_run(
        runs,
        tmp_path,
        n_trials=2,
        # A learning rate that wrecks the model: the trial after the base is far worse at fold 0.
        space={"full_model.optimizer.learning_rate": {"low": 20.0, "high": 40.0, "log": False}},
        pruner={"name": "median", "n_startup_trials": 1, "n_warmup_steps": 0},
    )
    trials = out["tune_trials"]
    assert trials["state"].tolist() == ["COMPLETE", "PRUNED"]
    assert math.isnan(trials["fold_1_rmse"].iloc[1])  # stopped before its second fold trained
    assert out["best_params"] == {"full_model": {"optimizer": {"learning_rate": 0.002}}}
