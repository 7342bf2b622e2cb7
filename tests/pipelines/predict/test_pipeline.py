"""The predict pipeline in memory, on the outputs of the pipelines before it (tests/pipelines/conftest.py)."""

from __future__ import annotations

import numpy as np

from facial_keypoints.domain.keypoints import COLUMNS
from tests.pipelines.conftest import FOLDS


def test_predict_wiring(runs, demo_frames):
    submission = runs["predict"]["submission"]
    assert submission["RowId"].tolist() == demo_frames["IdLookupTable"]["RowId"].tolist()
    assert np.isfinite(submission["Location"]).all()
    folds = runs["predict"]["test_fold_predictions"]["folds"]
    assert folds.shape == (FOLDS, len(demo_frames["test"]), len(COLUMNS))
    average = runs["predict"]["test_predictions"][list(COLUMNS)].to_numpy()
    np.testing.assert_allclose(average, folds.mean(axis=0), rtol=1e-6)
