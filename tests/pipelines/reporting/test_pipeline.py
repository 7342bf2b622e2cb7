"""The reporting pipeline in memory, on the outputs of the pipelines before it (tests/pipelines/conftest.py)."""

from __future__ import annotations

from tests.pipelines.conftest import FOLDS


def test_reporting_wiring(runs):
    out = runs["reporting"]
    assert {
        "metrics",
        "metrics_table",
        "tracked_metrics",
        "loss_curves_plot",
        "keypoint_rmse_plot",
        "fold_rmse_plot",
        "oof_faces_plot",
        "test_faces_plot",
    } == set(out)
    assert out["metrics"]["per_model"]["mean_baseline"]["oof_rmse"] > 0
    assert list(out["metrics"]["per_fold"]) == [f"fold_{k}" for k in range(FOLDS)]
    assert "final_combination" in out["metrics_table"]
    assert out["tracked_metrics"]["oof_rmse"]["value"] == out["metrics"]["oof_rmse"]
    assert out["loss_curves_plot"].axes
