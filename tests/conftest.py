"""Shared fixtures: small generated faces in Kaggle's format, and the optional ../shared data."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader

from facial_keypoints.arrays.synthetic import make_demo_frames
from facial_keypoints.domain.keypoints import IMAGE_SIZE
from facial_keypoints.domain.params import OnlineAugmentParams, Params, check_parameters
from facial_keypoints.nn.online_augment import augment_batch
from facial_keypoints.settings import CONFIG_LOADER_ARGS

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Every run of the tests is tracked in a temporary MLflow store, never the user's own."""
    folder = tmp_path_factory.mktemp("mlflow")
    with pytest.MonkeyPatch.context() as patch:
        uri = f"sqlite:///{folder / 'mlflow.db'}"
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        yield uri


@pytest.fixture
def own_mlflow_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A store for this test alone (MLFLOW_TRACKING_URI), so the runs there are its own."""
    uri = f"sqlite:///{tmp_path / 'own-mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri


#: For tests that start a fresh Python per Keras backend themselves: they check every backend in the
#: TensorFlow pass of `make test`, so the JAX pass (KERAS_BACKEND=jax) does not repeat them.
spawns_its_own_backends = pytest.mark.skipif(
    os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
    reason="starts each Keras backend itself; runs in the TensorFlow pass",
)


def run_python(code: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    """``python -c code args`` in a fresh process from the project root, with ``env`` set (a
    Keras backend, XLA flags) and TensorFlow's start-up lines silenced."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env},
        cwd=PROJECT_ROOT,
        timeout=600,
        check=False,
    )


def latest(path: Path) -> Path:
    """The latest version of a versioned artefact (Kedro's ``<filepath>/<version>/<name>``)."""
    return max(path.iterdir()) / path.name


def load_params(env: str = "base") -> dict[str, Params]:
    """The project's parameters from conf/ (``env`` over base), checked as a run checks them."""
    loader = OmegaConfigLoader(
        str(PROJECT_ROOT / "conf"), **{**CONFIG_LOADER_ARGS, "default_run_env": env}
    )
    return check_parameters(loader["parameters"])


@pytest.fixture(scope="session")
def params() -> dict[str, Params]:
    """The base profile's parameters (conf/base), as the nodes receive them."""
    return load_params()


def changed(model: Params, **changes: object) -> Params:
    """A copy of a parameter model with some values changed (nested models as dicts), re-checked."""
    return type(model).model_validate({**model.model_dump(), **changes})


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


#: A small ``compact`` network's options, for tests that train.
TINY_COMPACT = {
    "filters": [4, 8],
    "convs_per_block": 1,
    "batch_norm": False,
    "dense_units": 16,
    "dropout": 0.3,
}

#: On-the-fly augmentation that changes nothing; tests switch on what they check.
NO_AUGMENTATION = {
    "flip_probability": 0.0,
    "max_rotation_deg": 0.0,
    "max_shift": 0.0,
    "scale_range": (1.0, 1.0),
    "max_brightness": 0.0,
    "max_contrast": 0.0,
    "cutout_probability": 0.0,
    "cutout_size": 24,
}


def augment(
    images: np.ndarray,
    keypoints: np.ndarray,
    rng: np.random.Generator,
    mirror: float,
    **changes: object,
) -> tuple[object, np.ndarray]:
    """``augment_batch`` with only the given random changes switched on."""
    return augment_batch(
        images, keypoints, rng, mirror, OnlineAugmentParams(**{**NO_AUGMENTATION, **changes})
    )


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
