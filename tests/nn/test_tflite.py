"""The TFLite export predicts what the Keras model predicts."""

import keras
import numpy as np
import pytest

from facial_keypoints.nn.architectures import build_model
from facial_keypoints.nn.tflite import check_export, export_tflite
from tests.conftest import TINY_COMPACT


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="the TFLite export needs the TensorFlow backend"
)
def test_tflite_export_matches_keras_within_a_thousandth_of_a_pixel(tmp_path):
    model = build_model("compact", 30, np.linspace(20, 70, 30), [3.0] * 30, TINY_COMPACT)
    images = np.random.default_rng(0).integers(0, 256, (12, 96, 96)).astype(np.uint8)
    path = export_tflite(model, tmp_path / "model.tflite")
    report = check_export(model, path, images)
    assert report["faces"] == 12
    assert report["max_abs_difference_px"] <= 1e-3
    assert report["single_face_p50_ms"] > 0
