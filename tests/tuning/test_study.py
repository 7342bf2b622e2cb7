"""The shared study without training: who creates it, what a second worker must bring, a storage
that cannot be opened, the values a trial gets, and the end-of-study summary."""

from __future__ import annotations

import optuna
import pandas as pd
import pytest

from facial_keypoints.domain.params import check_block
from facial_keypoints.tuning import study as studies
from tests.conftest import changed

SETUP = {"folds": 2, "groups": "people.csv", "faces": 600}


@pytest.fixture
def raw(params) -> dict:
    """The base profile's parameters as plain dicts."""
    return {key: value.model_dump(mode="json") for key, value in params.items()}


@pytest.fixture
def tune(params, tmp_path):
    """The base profile's study, in a SQLite file of the test's own."""
    return changed(params["tune"], storage=f"sqlite:///{tmp_path}/study.db")


def test_the_first_worker_creates_the_study_and_queues_the_base_once(tune, raw):
    base = studies.base_values(tune, raw)
    first, created = studies.open_study(tune, base, SETUP)
    second, again = studies.open_study(tune, base, SETUP)
    assert (created, again) == (True, False)
    (queued,) = second.trials
    assert queued.state == optuna.trial.TrialState.WAITING
    assert queued.system_attrs["fixed_params"] == base and queued.user_attrs == {"base": True}
    assert (
        base["full_model.optimizer.learning_rate"]
        == raw["full_model"]["optimizer"]["learning_rate"]
    )


def test_a_worker_scoring_on_other_folds_is_refused_naming_the_difference(tune, raw):
    studies.open_study(tune, studies.base_values(tune, raw), SETUP)
    with pytest.raises(studies.StudyMismatch) as info:
        studies.open_study(tune, studies.base_values(tune, raw), {**SETUP, "folds": 5})
    text = str(info.value)
    assert "folds 2 there, 5 here" in text and "tune.study_name" in text and "\n" not in text


def test_a_storage_that_cannot_be_opened_is_one_line_with_its_password_masked(tune):
    bad = changed(tune, storage="postgresql+psycopg://me:secret@127.0.0.1:1/optuna")
    with pytest.raises(studies.StudyUnavailable) as info:
        studies.open_study(bad, {}, SETUP)
    text = str(info.value)
    assert text.startswith("The study storage postgresql+psycopg://me:***@127.0.0.1:1/optuna")
    assert "secret" not in text and "\n" not in text


def test_a_trial_gets_whole_numbers_and_choices_as_the_space_says(params, raw, tmp_path):
    raw["tune"] = {
        **raw["tune"],
        "storage": f"sqlite:///{tmp_path}/study.db",
        "space": {
            "full_model": {"epochs": {"low": 5, "high": 40, "log": True}},
            "combination": {"flip_tta": {"choices": [True, False]}},
        },
    }
    tune = check_block(raw, "tune")
    assert set(tune.space) == {"full_model.epochs", "combination.flip_tta"}
    values = studies.suggest(optuna.create_study().ask(), tune, studies.base_values(tune, raw))
    assert isinstance(values["full_model.epochs"], int) and 5 <= values["full_model.epochs"] <= 40
    assert values["combination.flip_tta"] in (True, False)


def test_the_summary_names_the_best_against_the_base_and_how_to_train_with_it(tune):
    trials = pd.DataFrame(
        {
            "number": [0, 1, 2],
            "state": ["COMPLETE", "PRUNED", "COMPLETE"],
            "value": [2.0, None, 1.5],
            "base": [True, False, False],
        }
    )
    best = {"full_model": {"optimizer": {"learning_rate": 0.003}}}
    text = studies.summary(trials, best, tune, "data/08_reporting/best_params.yml")
    assert "3 trials, 2 complete, 1 pruned, 0 failed" in text
    assert "Best: trial 2, out-of-fold RMSE 1.5000 (base, trial 0: 2.0000)." in text
    assert 'kedro run --params "full_model.optimizer.learning_rate=0.003"' in text
