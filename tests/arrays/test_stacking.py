"""The combination stacked on out-of-fold views, and the ambiguity estimate of fold averaging."""

import numpy as np
import pytest

from facial_keypoints.arrays import stacking
from facial_keypoints.arrays.stacking import ambiguity, combine, fit_combination, views_needed
from facial_keypoints.domain.faces import rmse
from facial_keypoints.domain.keypoints import COLUMNS, SPECIALIST_GROUPS, columns_of

N = 400


FACES_APART = np.arange(N)  # every face its own group


def fit(views, truth, flip_tta):
    return fit_combination(views, truth, flip_tta, seed=0, groups=FACES_APART)[0]


@pytest.fixture
def truth():
    truth = np.random.default_rng(0).uniform(20, 70, (N, len(COLUMNS)))
    truth[: N // 2, 4:] = np.nan  # half the faces labelled for 2 keypoints only, as on Kaggle
    return truth


def noisy(truth, scale, seed):
    filled = np.nan_to_num(truth, nan=48.0)
    return filled + np.random.default_rng(seed).normal(0, scale, truth.shape)


def only(view, columns):
    masked = np.full_like(view, np.nan)
    masked[:, columns] = view[:, columns]
    return masked


def test_each_coordinate_weighs_the_better_model_more_and_the_blend_beats_both(truth):
    eyes = columns_of(SPECIALIST_GROUPS["eye_centers"])
    views = {
        "full_model": noisy(truth, 2.0, 1),
        "specialist_eye_centers": only(noisy(truth, 1.0, 2), eyes),
    }
    combination = fit(views, truth, False)
    for c in eyes:  # independent errors of variance 4 and 1: optimal weights 0.2 and 0.8
        weights = combination["weights"][COLUMNS[c]]
        assert weights["specialist_eye_centers"] == pytest.approx(0.8, abs=0.1)
        assert weights["full_model"] == pytest.approx(0.2, abs=0.1)
    assert combination["weights"]["nose_tip_x"] == {"full_model": pytest.approx(1.0, abs=0.01)}
    final = combine(views, combination)
    assert rmse(final[:, eyes], truth[:, eyes]) < rmse(
        views["specialist_eye_centers"][:, eyes], truth[:, eyes]
    )
    assert combination["oof_rmse_in_sample"] == pytest.approx(rmse(final, truth))
    assert combination["oof_rmse"] < combination["oof_rmse_full_model"]


def test_the_combination_is_scored_on_faces_it_was_not_fitted_on(truth):
    # 8 useless views: fitted and scored on the same faces they seem to help a little
    views = {"full_model": noisy(truth, 1.0, 1)}
    for group in list(SPECIALIST_GROUPS)[:4]:
        for suffix, seed in (("", 10), ("_mirrored", 20)):
            views[f"specialist_{group}{suffix}"] = noisy(truth, 3.0, seed + len(views))
    combination, cross_fitted = fit_combination(views, truth, "auto", seed=0, groups=FACES_APART)
    assert combination["oof_rmse"] == pytest.approx(rmse(cross_fitted, truth))
    assert combination["oof_rmse_in_sample"] < combination["oof_rmse"]
    again = fit_combination(views, truth, "auto", seed=0, groups=FACES_APART)[1]
    np.testing.assert_array_equal(again, cross_fitted)


def test_the_cross_fit_never_fits_on_a_group_it_scores(truth, monkeypatch):
    groups = np.repeat(np.arange(N // 8), 8)  # 50 people, 8 faces each
    views = {"full_model": noisy(truth, 1.0, 1)}
    views["full_model"][:, 0] = groups  # the view carries its faces' group, for the spy below
    fitted_on = []
    real = stacking.fit_weights

    def spy(views, truth, flip_tta):
        fitted_on.append(set(views["full_model"][:, 0]))
        return real(views, truth, flip_tta)

    monkeypatch.setattr(stacking, "fit_weights", spy)
    stacking.cross_fit(views, truth, False, 0, groups)
    first, second = fitted_on
    assert not first & second and len(first | second) == N // 8


def test_a_useless_model_gets_no_weight(truth):
    views = {"full_model": noisy(truth, 1.0, 1), "specialist_nose_tip": noisy(truth, 30.0, 2)}
    views["specialist_nose_tip"] = only(views["specialist_nose_tip"], [20, 21])
    weights = fit(views, truth, False)["weights"]
    assert weights["nose_tip_x"]["full_model"] > 0.95
    assert weights["nose_tip_x"].get("specialist_nose_tip", 0.0) < 0.05


def test_flip_tta_decides_which_mirrored_views_are_used(truth):
    views = {"full_model": noisy(truth, 1.0, 1), "full_model_mirrored": noisy(truth, 1.0, 2)}
    never = fit(views, truth, False)
    assert views_needed(never) == {"full_model"}
    always = fit(views, truth, True)
    assert views_needed(always) == {"full_model", "full_model_mirrored"}
    assert always["weights"]["left_eye_center_x"] == {"full_model": pytest.approx(1.0, abs=0.01)}
    averaged = (views["full_model"] + views["full_model_mirrored"]) / 2
    assert always["oof_rmse"] == pytest.approx(rmse(averaged, truth), rel=0.01)
    apart = fit(views, truth, "auto")
    assert set(apart["weights"]["left_eye_center_x"]) == {"full_model", "full_model_mirrored"}
    assert apart["oof_rmse"] < never["oof_rmse"]


def test_the_ambiguity_is_what_averaging_gains_exactly(truth):
    members = np.stack([noisy(truth, 1.5, seed) for seed in range(5)])
    labelled = ~np.isnan(truth).any(axis=1)
    members, target = members[:, labelled], truth[labelled]
    member_mse = np.mean([(member - target) ** 2 for member in members])
    average_mse = np.mean((members.mean(axis=0) - target) ** 2)
    assert average_mse == pytest.approx(member_mse - ambiguity(members))
