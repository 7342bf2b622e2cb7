"""Cleaning, folds and offline augmentation nodes."""

import numpy as np
import pytest

from facial_keypoints.arrays.folds import TRAIN_ONLY
from facial_keypoints.arrays.synthetic import make_demo_frames
from facial_keypoints.domain.errors import InputDataError
from facial_keypoints.domain.faces import subset
from facial_keypoints.domain.params import CleaningParams, CVParams
from facial_keypoints.pipelines.data_engineering.nodes import (
    augment_training,
    choose_flip_convention,
    clean_training,
    make_folds,
    parse_training,
)
from tests.conftest import changed


@pytest.fixture
def faces(training_frame):
    return parse_training(training_frame)


def test_keep_all_keeps_every_face_with_its_mask(faces):
    kept = clean_training(faces, CleaningParams(strategy="keep_all"))
    assert len(kept["images"]) == len(faces["images"])
    assert 0 < kept["mask"].mean() < 1


def test_drop_incomplete_keeps_only_complete_faces(faces):
    kept = clean_training(faces, CleaningParams(strategy="drop_incomplete"))
    assert len(kept["images"]) == int(faces["mask"].all(axis=1).sum()) > 0
    assert kept["mask"].all() and not np.isnan(kept["keypoints"]).any()


def cv(**changes):
    return CVParams(
        **{
            "folds": 1,
            "seed": 11,
            "validation_fraction": 0.25,
            "duplicate_threshold": 5.0,
            **changes,
        }
    )


def test_one_fold_is_a_reproducible_stratified_holdout(faces):
    folds = make_folds(faces, cv())
    assert folds["row"].tolist() == faces["ids"].tolist()
    assert set(folds["fold"]) == {TRAIN_ONLY, 0}
    validation = folds["fold"].to_numpy() == 0
    assert abs(validation.sum() - 0.25 * len(validation)) <= 1
    complete = faces["mask"].all(axis=1)
    assert abs(complete[validation].sum() - 0.25 * complete.sum()) <= 1
    assert make_folds(faces, cv()).equals(folds)
    assert not make_folds(faces, cv(seed=12))["fold"].equals(folds["fold"])


def test_k_folds_cover_every_face_once_balanced_and_stratified(faces):
    fold = make_folds(faces, cv(folds=4))["fold"].to_numpy()
    assert sorted(set(fold)) == [0, 1, 2, 3]
    sizes = np.bincount(fold)
    assert sizes.max() - sizes.min() <= 1
    complete = np.bincount(fold[faces["mask"].all(axis=1)], minlength=4)
    assert complete.max() - complete.min() <= 1


def test_near_duplicate_images_never_straddle_folds(faces):
    rng = np.random.default_rng(0)
    images = faces["images"].copy()
    # rows 1-9 copy rows 11-19, with faint noise: a repeated image re-encoded
    noise = rng.integers(-3, 4, images[11:20].shape)
    images[1:10] = np.clip(images[11:20] + noise, 0, 255).astype(np.uint8)
    doubled = {**faces, "images": images}
    for folds in (1, 2, 5):
        fold = make_folds(doubled, cv(folds=folds, seed=folds))["fold"].to_numpy()
        assert (fold[1:10] == fold[11:20]).all()
    groups = make_folds(doubled, cv())["group"].to_numpy()
    assert (groups[1:10] == groups[11:20]).all()
    assert len(set(groups)) == len(groups) - 9  # distinct faces stay apart
    assert len(set(make_folds(doubled, cv(duplicate_threshold=0.0))["group"])) == len(groups)


def test_folds_that_leave_a_part_empty_are_refused(faces):
    with pytest.raises(InputDataError, match=r"cv.folds = 5 needs at least 5 distinct training"):
        make_folds(subset(faces, np.arange(3)), cv(folds=5))
    with pytest.raises(InputDataError, match=r"cv.folds = 1 needs at least 2 distinct training"):
        make_folds(subset(faces, np.arange(1)), cv())
    with pytest.raises(InputDataError, match="leaves no training or no validation faces"):
        make_folds(faces, cv(validation_fraction=0.999))


def test_augment_training_appends_one_copy_per_enabled_augmentation(faces, params):
    offline = params["augment"].offline.model_dump()
    offline["flip"]["enabled"] = offline["wiener_3x3"]["enabled"] = True
    params = changed(params["augment"], seed=0, offline=offline)
    n = len(faces["images"])
    out = augment_training(faces, {"mirror": 96.0}, params)
    assert len(out["images"]) == 3 * n
    np.testing.assert_array_equal(out["images"][n : 2 * n], faces["images"][:, :, ::-1])
    np.testing.assert_array_equal(out["ids"][n : 2 * n], faces["ids"])
    nose_x = 20
    np.testing.assert_allclose(
        out["keypoints"][n : 2 * n, nose_x], 96.0 - faces["keypoints"][:, nose_x], atol=1e-4
    )


def test_flip_convention_is_the_parameter_unless_auto(faces, params):
    assert choose_flip_convention(faces, changed(params["augment"], mirror=95))["mirror"] == 95.0


def test_auto_flip_convention_recovers_how_the_faces_were_labelled(params):
    auto = changed(params["augment"], mirror="auto")
    faces = parse_training(make_demo_frames(n_train=300, n_test=1, seed=5)["training"])
    # Demo faces put a pixel's centre at x + 0.5, so mirror images satisfy x' = 96 - x.
    assert abs(choose_flip_convention(faces, auto)["mirror"] - 96.0) <= 0.5
    # Labels shifted right by one pixel are mirrored about 98.
    shifted = {**faces, "keypoints": faces["keypoints"].copy()}
    shifted["keypoints"][:, 0::2] += 1.0
    assert abs(choose_flip_convention(shifted, auto)["mirror"] - 98.0) <= 0.5


def test_drop_incomplete_that_keeps_nothing_is_refused(faces):
    faces["mask"][:, 5] = 0
    with pytest.raises(InputDataError, match="drop_incomplete keeps no face"):
        clean_training(faces, CleaningParams(strategy="drop_incomplete"))
