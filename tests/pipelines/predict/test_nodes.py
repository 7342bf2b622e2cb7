"""Mapping predictions onto IdLookupTable rows, and refusing to write a bad submission; the served
model's request and answer."""

import re

import numpy as np
import pandas as pd
import pytest

from facial_keypoints.domain.errors import InputDataError, RequestError
from facial_keypoints.domain.keypoints import COLUMNS
from facial_keypoints.domain.params import ServingParams
from facial_keypoints.pipelines.predict.nodes import keypoints_table, make_submission, read_request


@pytest.fixture
def predictions():
    values = np.tile(np.arange(30, dtype=np.float32) + 10, (3, 1))
    values[:, 0] = [1.0, 2.0, 3.0]
    frame = pd.DataFrame(values, columns=list(COLUMNS))
    frame.insert(0, "ImageId", [7, 8, 9])
    return frame


def lookup(rows):
    return pd.DataFrame(rows, columns=["RowId", "ImageId", "FeatureName"])


def test_each_lookup_row_gets_its_image_and_feature_in_order(predictions):
    table = lookup([(1, 9, "left_eye_center_x"), (2, 7, "nose_tip_y"), (3, 7, "left_eye_center_x")])
    submission = make_submission(predictions, table)
    assert submission["RowId"].tolist() == [1, 2, 3]
    assert submission["Location"].tolist() == [3.0, 10.0 + COLUMNS.index("nose_tip_y"), 1.0]


def test_predictions_are_clipped_to_the_image(predictions):
    predictions.loc[0, "nose_tip_x"] = -3.0
    predictions.loc[1, "nose_tip_x"] = 101.0
    table = lookup([(1, 7, "nose_tip_x"), (2, 8, "nose_tip_x")])
    assert make_submission(predictions, table)["Location"].tolist() == [0.0, 96.0]


def test_a_lookup_row_without_a_prediction_writes_nothing(predictions):
    table = lookup([(1, 7, "nose_tip_x"), (2, 42, "nose_tip_x")])
    with pytest.raises(
        InputDataError, match=r"submission.csv was not written: no prediction for RowIds \[2\]"
    ):
        make_submission(predictions, table)


# The served model's request: faces as in test.csv, and a one-line answer for each kind of mistake.

FACE = " ".join(["7"] * 9216)
SERVING = {"model_name": "facial_keypoints", "max_faces": 3, "promote_best": False}


def request(*images):
    return pd.DataFrame({"Image": list(images)})


def test_a_request_gives_its_faces_in_order_numbered_from_one():
    faces = read_request(request(FACE, " ".join(["255"] * 9216)), ServingParams(**SERVING))
    assert faces["images"].shape == (2, 96, 96)
    assert faces["images"].dtype == np.uint8
    assert faces["images"][0, 0, 0] == 7 and faces["images"][1, 95, 95] == 255
    assert faces["ids"].tolist() == [1, 2]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (request(), "The request holds no faces"),
        (request(*[FACE] * 4), "holds 4 faces, more than this model's serving.max_faces = 3"),
        (request(FACE, "1 2 3"), "face 2: Image has 3 values, expected 9216"),
        (request("abc " + FACE), "face 1: Image value 'abc' (value 1) is not an integer"),
        (
            request(FACE.replace("7", "256", 1)),
            "face 1: Image value 256 (value 1) is outside 0..255",
        ),
        (request(FACE.replace("7", "-1", 1)), "face 1: Image value -1 (value 1) is outside 0..255"),
        (request(5), "face 1: Image has 1 values, expected 9216"),
        (request(None), "face 1: Image is empty"),
        (pd.DataFrame({"Pixels": [FACE]}), "The request has no column 'Image'"),
    ],
)
def test_a_request_the_model_cannot_answer_says_why_in_one_line(frame, message):
    with pytest.raises(RequestError, match=re.escape(message)) as error:
        read_request(frame, ServingParams(**SERVING))
    assert "\n" not in str(error.value)


def test_the_served_answer_is_the_thirty_keypoints_clipped_like_the_submission(predictions):
    predictions.loc[0, "nose_tip_x"] = -3.0
    predictions.loc[1, "nose_tip_x"] = 101.0
    table = keypoints_table(predictions)
    assert list(table.columns) == list(COLUMNS)
    assert table["nose_tip_x"].tolist() == [0.0, 96.0, predictions.loc[2, "nose_tip_x"]]
    assert table["left_eye_center_x"].tolist() == [1.0, 2.0, 3.0]
