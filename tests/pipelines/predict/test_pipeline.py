"""The predict pipeline in memory, on the outputs of the pipelines before it (tests/pipelines/conftest.py)."""

from __future__ import annotations

import numpy as np

from facial_keypoints.domain.keypoints import COLUMNS
from facial_keypoints.pipelines.predict.pipeline import (
    SERVING_INPUT,
    SERVING_OUTPUT,
    create_serving_pipeline,
)
from tests.conftest import load_params
from tests.pipelines.conftest import FOLDS, run_in_memory


def test_predict_wiring(runs, demo_frames):
    submission = runs["predict"]["submission"]
    assert submission["RowId"].tolist() == demo_frames["IdLookupTable"]["RowId"].tolist()
    assert np.isfinite(submission["Location"]).all()
    folds = runs["predict"]["test_fold_predictions"]["folds"]
    assert folds.shape == (FOLDS, len(demo_frames["test"]), len(COLUMNS))
    average = runs["predict"]["test_predictions"][list(COLUMNS)].to_numpy()
    np.testing.assert_allclose(average, folds.mean(axis=0), rtol=1e-6)


def test_the_served_model_answers_the_test_faces_as_predict_does(runs, demo_frames):
    """The inference pipeline the served model runs, on test.csv's Image column as a request."""
    serving = create_serving_pipeline(folds=FOLDS)
    available = {**runs["data_engineering"], **runs["modelling"]}
    request = demo_frames["test"][["Image"]]
    inputs = {name: available[name] for name in serving.inputs() if name in available}
    params = load_params("demo")  # what the served model reads: combination, specialists, serving
    answer = run_in_memory(serving, {**inputs, SERVING_INPUT: request}, params)[SERVING_OUTPUT]
    expected = runs["predict"]["test_predictions"][list(COLUMNS)].clip(0, 96)
    assert answer.shape == (len(request), len(COLUMNS))
    np.testing.assert_allclose(answer.to_numpy(), expected.to_numpy(), atol=1e-4)
