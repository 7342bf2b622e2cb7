"""Parsing Kaggle's frames, and one clear error per kind of bad input."""

import numpy as np
import pandas as pd
import pytest

from facial_keypoints.domain.errors import InputDataError
from facial_keypoints.domain.keypoints import COLUMNS, N_PIXELS
from facial_keypoints.pipelines.data_engineering.nodes import (
    parse_test,
    parse_training,
    validate_lookup,
)


def set_image(frame: pd.DataFrame, row: int, values: list[str]) -> None:
    frame.loc[row, "Image"] = " ".join(values)


def test_parse_training_gives_kaggle_shaped_arrays(training_frame):
    faces = parse_training(training_frame)
    n = len(training_frame)
    assert faces["images"].shape == (n, 96, 96) and faces["images"].dtype == np.uint8
    assert faces["keypoints"].shape == (n, 30) and faces["keypoints"].dtype == np.float32
    expected_pixels = np.array(training_frame["Image"].iloc[7].split(), dtype=np.uint8)
    np.testing.assert_array_equal(faces["images"][7].ravel(), expected_pixels)
    np.testing.assert_allclose(
        faces["keypoints"], training_frame[list(COLUMNS)].to_numpy(np.float32), equal_nan=True
    )
    np.testing.assert_array_equal(faces["mask"], training_frame[list(COLUMNS)].notna().to_numpy())
    np.testing.assert_array_equal(faces["ids"], np.arange(1, n + 1))


def test_parse_test_keeps_image_ids(test_frame):
    test_frame["ImageId"] = test_frame["ImageId"] + 100
    faces = parse_test(test_frame)
    np.testing.assert_array_equal(faces["ids"], test_frame["ImageId"].to_numpy())
    assert faces["images"].shape == (len(test_frame), 96, 96)


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda v: v[:-1], "training.csv row 5 (line 6): Image has 9215 values, expected 9216"),
        (lambda v: [*v, "7"], "row 5 (line 6): Image has 9217 values, expected 9216"),
        (lambda v: ["256", *v[1:]], "row 5 (line 6): Image value 256 (value 1) is outside 0..255"),
        (
            lambda v: [*v[:9], "-1", *v[10:]],
            "row 5 (line 6): Image value -1 (value 10) is outside 0..255",
        ),
        (
            lambda v: [*v[:2], "abc", *v[3:]],
            "row 5 (line 6): Image value 'abc' (value 3) is not an integer",
        ),
        (lambda v: [*v[:2], "1.5", *v[3:]], "Image value '1.5' (value 3) is not an integer"),
        (lambda v: [], "row 5 (line 6): Image is empty"),
    ],
)
def test_bad_pixels_name_file_row_and_problem(training_frame, corrupt, message):
    training_frame.attrs["source"] = "data/01_raw/training.csv"
    set_image(training_frame, 4, corrupt(training_frame["Image"].iloc[4].split()))
    with pytest.raises(InputDataError, match="Each Image must hold 9216") as info:
        parse_training(training_frame)
    assert message in str(info.value)
    assert "data/01_raw/training.csv row 5" in str(info.value)


def test_a_missing_image_cell_is_reported_as_empty(test_frame):
    test_frame.loc[2, "Image"] = np.nan
    with pytest.raises(InputDataError, match=r"test.csv row 3 \(line 4\): Image is empty"):
        parse_test(test_frame)


def test_many_bad_rows_are_listed_briefly(training_frame):
    for row in range(12):
        set_image(training_frame, row, ["1"] * 10)
    with pytest.raises(InputDataError) as info:
        parse_training(training_frame)
    text = str(info.value)
    assert "row 1 (line 2)" in text and "row 5 (line 6)" in text and "row 6 (line 7)" not in text
    assert "and 7 more" in text


def test_lengths_that_only_add_up_in_total_are_still_caught(training_frame):
    values = training_frame["Image"].iloc[0].split()
    set_image(training_frame, 0, values[:-1])
    set_image(training_frame, 1, [*training_frame["Image"].iloc[1].split(), "9"])
    with pytest.raises(InputDataError, match="row 1 .*9215 values.*row 2 .*9217 values"):
        parse_training(training_frame)


@pytest.mark.parametrize(
    ("value", "problem"),
    [(96.5, "is outside [0, 96]"), (-0.1, "is outside [0, 96]"), ("left", "is not a number")],
)
def test_bad_keypoints_are_reported(training_frame, value, problem):
    training_frame["nose_tip_y"] = training_frame["nose_tip_y"].astype(object)
    training_frame.loc[3, "nose_tip_y"] = value
    with pytest.raises(InputDataError) as info:
        parse_training(training_frame)
    assert f"row 4 (line 5): nose_tip_y = {value!r} {problem}" in str(info.value)


def test_keypoints_on_the_border_are_accepted(training_frame):
    training_frame.loc[0, "nose_tip_x"] = 96.0
    training_frame.loc[1, "nose_tip_x"] = 0.0
    assert parse_training(training_frame)["keypoints"][0, COLUMNS.index("nose_tip_x")] == 96.0


def test_missing_column_is_named(training_frame):
    with pytest.raises(InputDataError, match=r"missing column\(s\) \['mouth_left_corner_y'\]"):
        parse_training(training_frame.drop(columns="mouth_left_corner_y"))
    with pytest.raises(InputDataError, match=r"test.csv: missing column\(s\) \['ImageId'\]"):
        parse_test(pd.DataFrame({"Image": ["0 " * N_PIXELS]}))


def test_header_without_rows_is_an_error(test_frame):
    with pytest.raises(InputDataError, match="has a header but no rows"):
        parse_test(test_frame.iloc[:0])


def test_duplicate_image_ids_are_reported(test_frame):
    test_frame.loc[5, "ImageId"] = test_frame.loc[2, "ImageId"]
    with pytest.raises(
        InputDataError, match=r"row 6 \(line 7\): ImageId 3 repeats row 3 \(line 4\)"
    ):
        parse_test(test_frame)


def test_lookup_rows_must_name_known_features_and_images(test_frame, lookup_frame):
    test_faces = parse_test(test_frame)
    assert len(validate_lookup(lookup_frame, test_faces)) == len(lookup_frame)
    lookup_frame.loc[3, "FeatureName"] = "left_ear_x"
    lookup_frame.loc[8, "ImageId"] = 999
    with pytest.raises(InputDataError) as info:
        validate_lookup(lookup_frame, test_faces)
    text = str(info.value)
    assert "IdLookupTable.csv row 4 (line 5): FeatureName 'left_ear_x' is not one of the 30" in text
    assert "row 9 (line 10): ImageId 999 is not in test.csv" in text


def test_kaggles_own_lookup_table_validates(kaggle_lookup, test_frame):
    ids = np.sort(kaggle_lookup["ImageId"].unique())
    assert len(ids) == 1783
    test_faces = {"images": np.zeros((len(ids), 96, 96), np.uint8), "ids": ids}
    lookup = validate_lookup(kaggle_lookup, test_faces)
    assert len(lookup) == 27124
    assert lookup.groupby("ImageId").size().between(6, 30).all()


def test_a_keypoint_column_empty_in_every_row_is_refused(training_frame):
    training_frame["nose_tip_y"] = np.nan
    with pytest.raises(
        InputDataError, match=r"column\(s\) \['nose_tip_y'\] have no value in any row"
    ):
        parse_training(training_frame)


def test_quoted_values_are_cut_to_a_readable_length(training_frame):
    training_frame["nose_tip_x"] = training_frame["nose_tip_x"].astype(object)
    training_frame.loc[2, "nose_tip_x"] = training_frame.loc[2, "Image"]  # a shifted row
    with pytest.raises(InputDataError) as info:
        parse_training(training_frame)
    assert "row 3 (line 4): nose_tip_x = '" in str(info.value)
    assert len(str(info.value)) < 400


def test_an_image_id_beyond_what_numbers_hold_is_refused(test_frame):
    test_frame["ImageId"] = test_frame["ImageId"].astype(object)
    test_frame.loc[1, "ImageId"] = "99999999999999999999"
    with pytest.raises(
        InputDataError, match=r"row 2 \(line 3\): ImageId '99999999999999999999' is out of range"
    ):
        parse_test(test_frame)
