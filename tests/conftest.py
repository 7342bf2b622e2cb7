"""Shared fixtures: small generated faces in Kaggle's format, and the optional ../shared data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from facial_keypoints.demo import make_demo_frames
from facial_keypoints.keypoints import IMAGE_SIZE

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def demo_frames() -> dict[str, pd.DataFrame]:
    """A small generated dataset in Kaggle's file format (never modify it: copy first)."""
    return make_demo_frames(n_train=60, n_test=20, seed=3)


@pytest.fixture
def training_frame(demo_frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """A fresh copy of the demo training frame, free to corrupt."""
    return demo_frames["training"].copy()


@pytest.fixture
def test_frame(demo_frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """A fresh copy of the demo test frame, free to corrupt."""
    return demo_frames["test"].copy()


@pytest.fixture
def lookup_frame(demo_frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """A fresh copy of the demo IdLookupTable, free to corrupt."""
    return demo_frames["IdLookupTable"].copy()


def dotted_faces(keypoints: np.ndarray, pixel_of: Callable[[float], int]) -> np.ndarray:
    """Black images with a dot of distinct brightness (100 + 10 k) on the pixel of keypoint k."""
    images = np.zeros((len(keypoints), IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    for face, points in enumerate(keypoints.reshape(len(keypoints), -1, 2)):
        for k, (x, y) in enumerate(points):
            row, col = pixel_of(y), pixel_of(x)
            images[face, row, col] = 100 + 10 * k
    return images


@pytest.fixture
def ytf96() -> Path:
    """../shared/data/ytf96 (real faces in Kaggle's format); skips when absent."""
    path = SHARED_DATA / "ytf96"
    if not (path / "training.zip").is_file():
        pytest.skip(f"{path} is not available")
    return path


@pytest.fixture
def kaggle_lookup() -> pd.DataFrame:
    """Kaggle's own IdLookupTable.csv from ../shared/data/kaggle; skips when absent."""
    path = SHARED_DATA / "kaggle" / "IdLookupTable.csv"
    if not path.is_file():
        pytest.skip(f"{path} is not available")
    return pd.read_csv(path)

