"""The data_engineering pipeline in memory, on the outputs of the pipelines before it (tests/pipelines/conftest.py)."""

from __future__ import annotations

from tests.pipelines.conftest import FOLDS


def test_data_engineering_wiring(runs, demo_frames):
    out = runs["data_engineering"]
    assert set(out) == {
        "training_faces",
        "test_faces",
        "id_lookup",
        "training_clean",
        "training_groups",
        "folds",
        "fold_grouping",
        "flip_convention",
        "train_faces_augmented",
    }
    assert sorted(set(out["folds"]["fold"])) == list(range(FOLDS))
    assert len(out["folds"]) == len(demo_frames["training"])
    assert not out["fold_grouping"]["unseen_people"]  # the demo profile has no cv.groups
    assert out["test_faces"]["images"].shape == (len(demo_frames["test"]), 96, 96)
