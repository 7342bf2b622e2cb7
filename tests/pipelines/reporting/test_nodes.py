"""Out-of-fold metrics: Kaggle's RMSE overall, per keypoint, model, specialist and fold; the ensemble."""

import numpy as np
import pytest

from facial_keypoints.domain.keypoints import COLUMNS, SPECIALIST_GROUPS, columns_of
from facial_keypoints.pipelines.reporting.nodes import (
    compute_metrics,
    format_metrics,
    plot_fold_rmse,
    plot_keypoint_rmse,
)

SUMMARY = {
    "training_samples": 20,
    "epochs": 3,
    "seconds": 6.0,
    "seconds_per_epoch": 2.0,
    "history": {},
    "enabled": True,
}


def identity(views):
    """A combination that takes the full model's view for every column."""
    weights = {column: {"full_model": 1.0} for column in COLUMNS}
    return {"flip_tta": False, "weights": weights, "oof_rmse_in_sample": 1.0}


def cross_fitted(oof):
    """The out-of-fold final predictions, as the modelling pipeline writes them."""
    return {"ids": oof["ids"], "final_combination": oof["full_model"]}


GROUPING = {
    "unseen_people": False,
    "description": "near-duplicate images (0 faces at cv.duplicate_threshold 5) only",
}
PEOPLE = {"unseen_people": True, "description": "person (5 in people.csv) and near-duplicates"}


@pytest.fixture
def setup():
    rng = np.random.default_rng(0)
    truth = rng.uniform(20, 70, (10, 30)).astype(np.float32)
    truth[3, 4:] = np.nan
    faces = {
        "images": np.zeros((10, 96, 96), np.uint8),
        "keypoints": truth,
        "ids": np.arange(101, 111),
    }
    final = truth.copy()
    final[np.isnan(final)] = 48.0
    final[7] += 3.0  # one face off by 3 px on every coordinate
    final[:, COLUMNS.index("nose_tip_y")] += 1.0
    order = np.arange(9, -1, -1)  # out-of-fold files list faces in their own order
    oof = {
        "ids": faces["ids"][order],
        "fold": np.array([0, 1] * 5),
        "mean_baseline": np.tile(np.full(30, 45.0, np.float32), (10, 1)),
        "full_model": final[order],
    }
    for name in SPECIALIST_GROUPS:
        view = np.full_like(final, np.nan)
        columns = columns_of(SPECIALIST_GROUPS[name])
        view[:, columns] = final[:, columns] + 0.5
        oof[f"specialist_{name}"] = view[order]
    summaries = {
        f"fold_{k}": {"full_model": SUMMARY, **dict.fromkeys(SPECIALIST_GROUPS, SUMMARY)}
        for k in range(2)
    }
    test = {"folds": np.stack([np.zeros((4, 30)), np.full((4, 30), 0.2)])}
    return faces, oof, final, summaries, test


def test_metrics_follow_kaggles_definition(setup):
    faces, oof, final, summaries, test = setup
    metrics = compute_metrics(
        faces, oof, cross_fitted(oof), identity(oof), summaries, test, GROUPING
    )
    present = ~np.isnan(faces["keypoints"])
    errors = (final - faces["keypoints"])[present]
    assert metrics["oof_rmse"] == pytest.approx(np.sqrt(np.mean(errors**2)))
    mean_baseline = (45.0 - faces["keypoints"])[present]
    assert metrics["per_model"]["mean_baseline"]["oof_rmse"] == pytest.approx(
        np.sqrt(np.mean(mean_baseline**2))
    )
    eyes = columns_of(SPECIALIST_GROUPS["eye_centers"])
    errors = (final[:, eyes] + 0.5 - faces["keypoints"][:, eyes]).ravel()
    assert metrics["per_model"]["specialist_eye_centers"]["oof_rmse"] == pytest.approx(
        np.sqrt(np.nanmean(errors**2))
    )
    assert metrics["worst_keypoints"][0] == "nose_tip_y"
    assert metrics["worst_faces"][0]["id"] == 108 and metrics["worst_faces"][0]["rmse"] > 2.9
    assert set(metrics["per_keypoint"]) == set(COLUMNS)
    assert set(metrics["per_specialist"]) == set(SPECIALIST_GROUPS)
    training = metrics["per_model"]["specialist_eye_centers"]
    assert training["epochs"] == 3 and training["seconds"] == 12.0  # mean epochs, total seconds
    assert "final_combination" in format_metrics(metrics)
    assert plot_keypoint_rmse(metrics).axes


def test_each_fold_is_scored_on_its_own_faces_and_the_ensemble_estimated(setup):
    faces, oof, final, summaries, test = setup
    metrics = compute_metrics(
        faces, oof, cross_fitted(oof), identity(oof), summaries, test, GROUPING
    )
    assert list(metrics["per_fold"]) == ["fold_0", "fold_1"]
    face_108 = metrics["per_fold"]["fold_0"]  # face 108 sits at position 2 of oof: fold 0
    assert face_108["final_combination"] > metrics["per_fold"]["fold_1"]["final_combination"]
    assert face_108["faces"] == 5
    fold_rmse = [fold["final_combination"] for fold in metrics["per_fold"].values()]
    assert metrics["fold_rmse_mean"] == pytest.approx(np.mean(fold_rmse))
    # the two folds' test predictions differ by 0.2 px: spread 0.1**2 around their average
    assert metrics["ensemble"]["ambiguity"] == pytest.approx(0.01)
    assert metrics["ensemble"]["estimated_rmse"] == pytest.approx(
        np.sqrt(metrics["oof_rmse"] ** 2 - 0.01)
    )
    assert "average of the 2 folds" in format_metrics(metrics)
    assert plot_fold_rmse(metrics).axes
    one_fold = compute_metrics(
        faces,
        oof,
        cross_fitted(oof),
        identity(oof),
        summaries,
        {"folds": test["folds"][:1]},
        PEOPLE,
    )
    assert one_fold["ensemble"] is None
    assert one_fold["estimate"] == {"rmse": one_fold["oof_rmse"], "unseen_people": True}
    assert metrics["estimate"] == {
        "rmse": metrics["ensemble"]["estimated_rmse"],
        "unseen_people": False,
    }
    assert "folds grouped by person" in format_metrics(one_fold)


def test_a_specialist_switched_off_is_left_out_of_the_report(setup):
    faces, oof, _, summaries, test = setup
    for fold in summaries.values():
        fold["eyebrows"] = {**SUMMARY, "epochs": 0, "enabled": False}
    del oof["specialist_eyebrows"]
    metrics = compute_metrics(
        faces, oof, cross_fitted(oof), identity(oof), summaries, test, GROUPING
    )
    assert (
        "specialist_eyebrows" not in metrics["per_model"]
        and "eyebrows" not in metrics["per_specialist"]
    )
    assert "specialist_eye_centers" in metrics["per_model"]
