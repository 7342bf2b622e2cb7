"""Cleaning, folds and offline augmentation nodes."""

import numpy as np
import pandas as pd
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
    read_groups,
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
            "groups": None,
            **changes,
        }
    )


def folds_of(faces, params):
    """make_folds' folds, the groups read as the pipeline reads them."""
    return make_folds(faces, read_groups(faces, params), params)[0]


def test_one_fold_is_a_reproducible_stratified_holdout(faces):
    folds = folds_of(faces, cv())
    assert folds["row"].tolist() == faces["ids"].tolist()
    assert set(folds["fold"]) == {TRAIN_ONLY, 0}
    validation = folds["fold"].to_numpy() == 0
    assert abs(validation.sum() - 0.25 * len(validation)) <= 1
    complete = faces["mask"].all(axis=1)
    assert abs(complete[validation].sum() - 0.25 * complete.sum()) <= 1
    assert folds_of(faces, cv()).equals(folds)
    assert not folds_of(faces, cv(seed=12))["fold"].equals(folds["fold"])


def test_k_folds_cover_every_face_once_balanced_and_stratified(faces):
    fold = folds_of(faces, cv(folds=4))["fold"].to_numpy()
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
        fold = folds_of(doubled, cv(folds=folds, seed=folds))["fold"].to_numpy()
        assert (fold[1:10] == fold[11:20]).all()
    groups = folds_of(doubled, cv())["group"].to_numpy()
    assert (groups[1:10] == groups[11:20]).all()
    assert len(set(groups)) == len(groups) - 9  # distinct faces stay apart
    assert len(set(folds_of(doubled, cv(duplicate_threshold=0.0))["group"])) == len(groups)


def test_folds_that_leave_a_part_empty_are_refused(faces):
    with pytest.raises(InputDataError, match=r"cv.folds = 5 needs at least 5 distinct training"):
        folds_of(subset(faces, np.arange(3)), cv(folds=5))
    with pytest.raises(InputDataError, match=r"cv.folds = 1 needs at least 2 distinct training"):
        folds_of(subset(faces, np.arange(1)), cv())
    with pytest.raises(InputDataError, match="leaves no training or no validation faces"):
        folds_of(faces, cv(validation_fraction=0.999))


@pytest.fixture
def people(tmp_path, faces):
    """A groups file: 60 faces of 12 people, 5 each, rows listed out of order."""
    path = tmp_path / "people.csv"
    rows = faces["ids"][::-1]
    pd.DataFrame({"row": rows, "person": [f"p{(row - 1) // 5}" for row in rows]}).to_csv(
        path, index=False
    )
    return path


@pytest.mark.parametrize("folds", [1, 2, 5])
def test_a_person_is_never_split_across_folds(faces, people, folds):
    params = cv(folds=folds, groups=str(people))
    made, grouping = make_folds(faces, read_groups(faces, params), params)
    person = (faces["ids"] - 1) // 5
    for p in range(12):
        assert len(set(made["fold"][person == p])) == 1
    assert grouping["unseen_people"] and grouping["group_column"] == "person"
    assert grouping["named_groups"] == 12 and grouping["groups"] <= 12
    assert "person (12 in" in grouping["description"]


def test_near_duplicates_of_two_people_merge_them(faces, people):
    images = faces["images"].copy()
    images[0] = images[59]  # person 0's first face repeats person 11's last
    params = cv(folds=5, groups=str(people))
    made, grouping = make_folds({**faces, "images": images}, read_groups(faces, params), params)
    assert made["fold"][0] == made["fold"][59] and grouping["groups"] == 11
    assert len(set(made["fold"][:5])) == 1 and len(set(made["fold"][55:])) == 1


def test_without_groups_the_folds_say_faces_of_people_also_in_training(faces):
    _, grouping = make_folds(faces, read_groups(faces, cv()), cv())
    assert not grouping["unseen_people"] and grouping["group_column"] is None
    assert "only, no cv.groups" in grouping["description"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda f: f.rename(columns={"row": "face"}),
            r"columns \['face', 'person'\], expected `row`",
        ),
        (lambda f: f.assign(video=1), "expected `row` and one group column"),
        (lambda f: f.iloc[:-1], "59 rows for training.csv's 60, row\\(s\\) \\[1\\] missing"),
        (lambda f: f.assign(row=f["row"].where(f["row"] != 7, 8)), r"row\(s\) \[8\] repeated"),
        (lambda f: f.assign(row=f["row"] + 1), "row 61 is not a row of training.csv"),
        (lambda f: f.assign(person=f["person"].where(f["row"] != 3, "")), "row 58 .*: no person"),
        (
            lambda f: f.assign(person=f["person"].where(f["row"] > 20, "most")),
            "the group of person 'most' holds 20 of the 60 faces .*more than a fold's 12",
        ),
    ],
)
def test_a_groups_file_that_does_not_match_training_csv_is_one_error(
    faces, people, change, message
):
    change(pd.read_csv(people)).to_csv(people, index=False)
    params = cv(folds=5, groups=str(people))
    with pytest.raises(InputDataError, match=message) as error:
        make_folds(faces, read_groups(faces, params), params)
    assert "\n" not in str(error.value) and "cv.groups" in str(error.value)


def test_a_missing_groups_file_names_the_parameter(faces, tmp_path):
    with pytest.raises(InputDataError, match=r"cv.groups: .*nowhere.csv does not exist"):
        read_groups(faces, cv(groups=str(tmp_path / "nowhere.csv")))


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
