"""The real-face stand-in ../shared/data/ytf96 parses and validates (skipped when absent)."""

import numpy as np

from facial_keypoints.datasets import KaggleCSVDataset
from facial_keypoints.pipelines.data_engineering.nodes import (
    parse_test,
    parse_training,
    validate_lookup,
)


def test_ytf96_parses_and_validates(ytf96):
    training = parse_training(KaggleCSVDataset(filepath=str(ytf96 / "training.csv")).load())
    test = parse_test(KaggleCSVDataset(filepath=str(ytf96 / "test.csv")).load())
    lookup = validate_lookup(
        KaggleCSVDataset(filepath=str(ytf96 / "IdLookupTable.csv")).load(), test
    )
    assert training["images"].shape == (3379, 96, 96)
    assert test["images"].shape == (853, 96, 96)
    assert set(lookup["ImageId"]) == set(test["ids"])
    complete = training["mask"].all(axis=1).mean()
    assert 0.25 < complete < 0.4
    assert np.nanmin(training["keypoints"]) >= 0 and np.nanmax(training["keypoints"]) <= 96
