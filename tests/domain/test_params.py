"""Parameters: every profile validates, and each mistake is one line naming it, its value and the fix."""

from __future__ import annotations

import copy

import pytest

from facial_keypoints.domain.keypoints import SPECIALIST_GROUPS
from facial_keypoints.domain.params import PARAMETERS, ParameterError, check_parameters
from tests.conftest import changed, load_params


@pytest.fixture
def raw(params) -> dict:
    """The base profile's parameters as plain dicts, as Kedro reads them from conf/."""
    return {key: value.model_dump() for key, value in params.items()}


@pytest.mark.parametrize("env", ["base", "demo", "gpu"])
def test_every_profile_validates(env):
    assert set(load_params(env)) == set(PARAMETERS)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            ("full_model", "architecture"),
            "foo",
            "Parameter full_model.architecture = 'foo' is not allowed: 'mlp', 'tutorial_cnn', 'report_cnn', 'compact' or 'heatmap_cnn'",
        ),
        (
            ("augment", "mirror"),
            "abc",
            "Parameter augment.mirror = 'abc' is not allowed: use 'auto' or a number.",
        ),
        (
            ("cleaning", "strategy"),
            "bogus",
            "Parameter cleaning.strategy = 'bogus' is not allowed: 'keep_all' or 'drop_incomplete'",
        ),
        (
            ("full_model", "epochs"),
            -1,
            "Parameter full_model.epochs = -1 is not allowed: greater than or equal to 1",
        ),
        (
            ("specialists", "epochs"),
            0,
            "Parameter specialists.epochs = 0 is not allowed: greater than or equal to 1",
        ),
        (
            ("cv", "validation_fraction"),
            1.5,
            "Parameter cv.validation_fraction = 1.5 is not allowed: less than 1",
        ),
        (
            ("cv", "folds"),
            0,
            "Parameter cv.folds = 0 is not allowed: greater than or equal to 1",
        ),
        (
            ("specialists", "enabled"),
            ["eye_centers", "ears"],
            "Parameter specialists.enabled.1 = 'ears' is not allowed: 'eye_centers', 'nose_tip'",
        ),
        (
            ("full_model", "optimizer", "nam"),
            "sgd",
            "Parameter full_model.optimizer.nam = 'sgd' is not a known parameter (a typo?)",
        ),
    ],
)
def test_a_bad_value_is_one_line_naming_parameter_value_and_what_is_allowed(
    raw, path, value, message
):
    target = raw
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ParameterError) as info:
        check_parameters(raw)
    text = str(info.value)
    assert text.startswith(message), text
    assert "\n" not in text and text.endswith(
        "Fix it in conf/ (parameters_*.yml) or in your --params."
    )


def test_an_unknown_block_is_refused(raw):
    raw["_specialist"] = {"epochs": 5}
    with pytest.raises(
        ParameterError, match="Parameter '_specialist' is not a parameter of this project"
    ):
        check_parameters(raw)


def test_a_missing_value_is_named(raw):
    del raw["full_model"]["patience"]
    with pytest.raises(ParameterError, match=r"^Parameter full_model.patience is missing\."):
        check_parameters(raw)


def test_specialists_share_settings_and_take_per_group_overrides(raw):
    raw["specialists"]["epochs"] = 5
    raw["specialists"]["overrides"] = {
        "eyebrows": {"epochs": 20, "optimizer": {"learning_rate": 0.01}}
    }
    specialists = check_parameters(raw)["specialists"]
    assert {group: specialists.for_group(group).epochs for group in SPECIALIST_GROUPS} == {
        **dict.fromkeys(SPECIALIST_GROUPS, 5),
        "eyebrows": 20,
    }
    eyebrows = specialists.for_group("eyebrows").optimizer
    assert (
        eyebrows.learning_rate == 0.01 and eyebrows.name == raw["specialists"]["optimizer"]["name"]
    )


def test_a_bad_override_is_refused_up_front(raw):
    bad = copy.deepcopy(raw)
    bad["specialists"]["overrides"] = {"eyebrows": {"epochs": 0}}
    with pytest.raises(ParameterError, match="specialists.overrides"):
        check_parameters(bad)
    bad["specialists"]["overrides"] = {"ears": {"epochs": 3}}
    with pytest.raises(ParameterError, match=r"specialists.overrides.ears"):
        check_parameters(bad)


def test_the_kaggle_environment_trains_as_the_gpu_environment():
    kaggle, gpu = load_params("kaggle"), load_params("gpu")
    assert kaggle["training"].checkpoint_dir == "/kaggle/working/data/06_models/checkpoints"
    assert kaggle["tune"].storage == "sqlite:////kaggle/working/data/06_models/tune.db"
    for params in (kaggle, gpu):
        params["training"] = changed(params["training"], checkpoint_dir="data root")
        params["tune"] = changed(params["tune"], storage="sqlite:///data root")
    assert kaggle == gpu
    assert gpu["full_model"] != load_params()["full_model"]


@pytest.mark.parametrize(("old", "new"), [("nouri", "tutorial_cnn"), ("seed", "report_cnn")])
def test_an_old_architecture_name_still_works_with_one_deprecation_line(raw, old, new):
    raw = copy.deepcopy(raw)
    raw["full_model"]["architecture"] = old
    raw["architectures"][old] = raw["architectures"].pop(new)
    with pytest.warns(FutureWarning) as caught:
        params = check_parameters(raw)
    assert params["full_model"].architecture == new
    assert params["architectures"].options(new) == raw["architectures"][old]
    messages = {str(warning.message) for warning in caught}
    assert f"full_model.architecture: the architecture '{old}' is now called '{new}'" in " ".join(
        messages
    )
    assert all("\n" not in message for message in messages)


@pytest.mark.parametrize(
    ("name", "searched", "message"),
    [
        (
            "full_model.optimizer.learning_rat",
            {"low": 0.001, "high": 0.01, "log": True},
            "Parameter tune.space.'full_model.optimizer.learning_rat' names no parameter of conf/",
        ),
        (
            "cv.seed",
            {"low": 1, "high": 9, "log": False},
            # cv is not searchable: every trial is scored on the same folds
            "Parameter tune.space.'cv.seed' is not a parameter a trial trains with",
        ),
        (
            "full_model.architecture",
            {"low": 1, "high": 9, "log": False},
            "Parameter tune.space.'full_model.architecture' has a range, but its value in conf/ "
            "is 'compact', not a number",
        ),
        (
            "architectures.compact.dropout",
            {"low": 0.1, "high": 1.5, "log": False},
            "Parameter tune.space.'architectures.compact.dropout': the search may give it 1.5. "
            "Parameter architectures.compact.dropout = 1.5 is not allowed",
        ),
        (
            "full_model.architecture",
            {"choices": ["compact", "resnet"]},
            "Parameter tune.space.'full_model.architecture': the search may give it 'resnet'.",
        ),
        (
            "full_model.optimizer.learning_rate",
            {"low": 0.0, "high": 0.01, "log": True},
            "Parameter tune.space.'full_model.optimizer.learning_rate' = {'low': 0.0, 'high': "
            "0.01, 'log': True} is not allowed: a log scale needs low > 0 (low is 0.0).",
        ),
    ],
)
def test_a_search_space_is_checked_against_the_parameters_it_searches(raw, name, searched, message):
    raw["tune"]["space"] = {name: searched}
    with pytest.raises(ParameterError) as info:
        check_parameters(raw)
    text = str(info.value)
    assert text.startswith(message), text
    assert "\n" not in text and text.endswith("or in your --params.")


def test_a_search_space_over_whole_numbers_and_choices_is_accepted(raw):
    raw["tune"]["space"] = {
        "full_model.epochs": {"low": 5, "high": 40, "log": True},
        "full_model.architecture": {"choices": ["compact", "heatmap_cnn"]},
        "combination.flip_tta": {"choices": [True, False]},
    }
    assert set(check_parameters(raw)["tune"].space) == set(raw["tune"]["space"])
