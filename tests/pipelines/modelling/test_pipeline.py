"""The modelling pipeline in memory, on the outputs of the pipelines before it (tests/pipelines/conftest.py)."""

from __future__ import annotations

from facial_keypoints.domain.keypoints import COLUMNS, SPECIALIST_GROUPS
from facial_keypoints.pipelines.catalog_names import specialist_dataset
from tests.pipelines.conftest import FOLDS


def test_modelling_wiring(runs, demo_frames):
    out = runs["modelling"]
    per_fold = {
        "full_model",
        "full_model_training_summary",
        "train_faces",
        "validation_faces",
        *(specialist_dataset(group) for group in SPECIALIST_GROUPS),
        *(f"{group}_specialist_training" for group in SPECIALIST_GROUPS),
    }
    assert set(out) == {
        "oof_predictions",
        "oof_combination",
        "training_summaries",
        "combination",
        *(f"fold_{k}.{name}" for k in range(FOLDS) for name in per_fold),
        *(
            f"fold_{k}_{name}"
            for k in range(FOLDS)
            for name in ("validation_predictions", "training_summaries")
        ),
    }
    assert out["fold_1.full_model"].output_shape == (None, len(COLUMNS))
    assert sorted(out["oof_predictions"]["ids"]) == list(range(1, len(demo_frames["training"]) + 1))
    assert out["combination"]["specialists"] == sorted(SPECIALIST_GROUPS)
    assert out["combination"]["folds"] == FOLDS
