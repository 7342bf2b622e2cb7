"""Validation metrics: Kaggle's RMSE overall, per keypoint, per model and per specialist."""

import numpy as np
import pytest

from facial_keypoints.keypoints import COLUMNS, SPECIALIST_GROUPS, columns_of
from facial_keypoints.pipelines.reporting.nodes import (
    compute_metrics,
    format_metrics,
    plot_keypoint_rmse,
)


@pytest.fixture
def setup():
    rng = np.random.default_rng(0)
    truth = rng.uniform(20, 70, (10, 30)).astype(np.float32)
    truth[3, 4:] = np.nan
    validation = {
        "images": np.zeros((10, 96, 96), np.uint8),
        "keypoints": truth,
        "ids": np.arange(101, 111),
    }
    train = {"keypoints": rng.uniform(20, 70, (20, 30)).astype(np.float32)}
    final = truth.copy()
    final[np.isnan(final)] = 48.0
    final[7] += 3.0  # one face off by 3 px on every coordinate
    final[:, COLUMNS.index("nose_tip_y")] += 1.0
    predictions = {"full_model": final + 0.5, "final_combination": final}
    summary = {
        "training_samples": 20,
        "epochs": 3,
        "seconds": 6.0,
        "seconds_per_epoch": 2.0,
        "history": {},
        "enabled": True,
    }
    for name in SPECIALIST_GROUPS:
        predictions[f"specialist_{name}"] = final[:, columns_of(SPECIALIST_GROUPS[name])]
    return train, validation, predictions, summary


def test_metrics_follow_kaggles_definition(setup):
    train, validation, predictions, summary = setup
    metrics = compute_metrics(
        train, validation, predictions, summary, **{name: summary for name in SPECIALIST_GROUPS}
    )
    present = ~np.isnan(validation["keypoints"])
    errors = (predictions["final_combination"] - validation["keypoints"])[present]
    assert metrics["val_rmse"] == pytest.approx(np.sqrt(np.mean(errors**2)))
    assert metrics["per_model"]["full_model"]["val_rmse"] > metrics["val_rmse"]
    mean = np.nanmean(train["keypoints"], axis=0)
    model_0 = (mean - validation["keypoints"])[present]
    assert metrics["per_model"]["model_0"]["val_rmse"] == pytest.approx(
        np.sqrt(np.mean(model_0**2))
    )
    assert metrics["worst_keypoints"][0] == "nose_tip_y"
    assert metrics["worst_faces"][0]["id"] == 108 and metrics["worst_faces"][0]["rmse"] > 2.9
    assert set(metrics["per_keypoint"]) == set(COLUMNS)
    assert set(metrics["per_specialist"]) == set(SPECIALIST_GROUPS)
    assert metrics["per_model"]["specialist_eye_centers"]["epochs"] == 3
    assert "final_combination" in format_metrics(metrics)
    assert plot_keypoint_rmse(metrics).axes


def test_a_specialist_switched_off_is_left_out_of_the_report(setup):
    train, validation, predictions, summary = setup
    summaries = {name: summary for name in SPECIALIST_GROUPS}
    summaries["eyebrows"] = {**summary, "epochs": 0, "enabled": False}
    del predictions["specialist_eyebrows"]
    metrics = compute_metrics(train, validation, predictions, summary, **summaries)
    assert (
        "specialist_eyebrows" not in metrics["per_model"]
        and "eyebrows" not in metrics["per_specialist"]
    )
    assert "specialist_eye_centers" in metrics["per_model"]
