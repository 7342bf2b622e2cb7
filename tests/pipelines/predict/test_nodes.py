"""Mapping predictions onto IdLookupTable rows, and refusing to write a bad submission."""

import numpy as np
import pandas as pd
import pytest

from facial_keypoints.domain.errors import InputDataError
from facial_keypoints.domain.keypoints import COLUMNS
from facial_keypoints.pipelines.predict.nodes import make_submission


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
