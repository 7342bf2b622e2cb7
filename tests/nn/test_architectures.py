"""Architectures build from parameters and train one step under every installed Keras backend."""

import importlib.util
import json

import keras
import numpy as np
import pytest

from facial_keypoints.domain.params import ArchitecturesParams
from facial_keypoints.nn.architectures import ARCHITECTURES, build_model
from facial_keypoints.nn.layers import SoftArgmax
from facial_keypoints.nn.losses import MaskedMSE, MaskedRMSE
from facial_keypoints.nn.specialists import specialist_from
from tests.conftest import load_params, run_python, spawns_its_own_backends

MEAN, STD = [48.0] * 30, [4.0] * 30
OPTIONS = load_params()["architectures"]

ONE_STEP = """
import json, sys, numpy as np, keras
from facial_keypoints.nn.architectures import ARCHITECTURES, build_model
from facial_keypoints.nn.losses import MaskedMSE, MaskedRMSE
options = json.loads(sys.argv[1])
rng = np.random.default_rng(0)
x = rng.uniform(0, 255, (4, 96, 96, 1)).astype("float32")
y = rng.uniform(20, 70, (4, 30)).astype("float32"); y[1, 4:] = np.nan
losses = {}
for name in ARCHITECTURES:
    model = build_model(name, 30, [48.0] * 30, [4.0] * 30, options[name])
    model.compile(optimizer="adam", loss=MaskedMSE([4.0] * 30), metrics=[MaskedRMSE()])
    logs = model.train_on_batch(x, y, return_dict=True)
    losses[name] = float(logs["loss"])
print(json.dumps({"backend": keras.backend.backend(), "losses": losses}))
"""


def test_the_tutorial_cnn_has_the_published_parameter_count():
    assert (
        build_model("tutorial_cnn", 30, MEAN, STD, OPTIONS.options("tutorial_cnn")).count_params()
        == 16_561_502
    )


@spawns_its_own_backends
@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_every_architecture_trains_one_step(backend):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    result = run_python(ONE_STEP, json.dumps(OPTIONS.model_dump()), KERAS_BACKEND=backend)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["backend"] == backend
    assert set(report["losses"]) == set(ARCHITECTURES)
    assert all(np.isfinite(loss) for loss in report["losses"].values())


def test_a_fresh_model_predicts_near_the_mean_shape():
    model = build_model(
        "compact", 30, np.linspace(10, 80, 30), [3.0] * 30, OPTIONS.options("compact")
    )
    predicted = model.predict(np.full((2, 96, 96, 1), 128.0, "float32"), verbose=0)
    assert np.abs(predicted - np.linspace(10, 80, 30)).max() < 3.0


def test_every_architecture_has_its_options_in_the_parameters():
    assert set(ARCHITECTURES) == set(ArchitecturesParams.model_fields)


def test_masked_loss_is_the_mean_over_present_values_only():
    y_true = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, 0.0]], "float32")
    y_pred = np.array([[2.0, 100.0, 1.0], [-50.0, 7.0, 2.0]], "float32")
    loss = MaskedMSE([1.0, 1.0, 2.0])
    expected = np.mean([1.0**2, (2.0 / 2) ** 2, (2.0 / 2) ** 2])
    assert float(loss(y_true, y_pred)) == pytest.approx(expected)


def test_masked_rmse_is_kaggles_metric_in_pixels():
    metric = MaskedRMSE()
    metric.update_state(np.array([[1.0, np.nan]], "float32"), np.array([[4.0, 9.0]], "float32"))
    metric.update_state(np.array([[np.nan, 2.0]], "float32"), np.array([[0.0, 2.0]], "float32"))
    assert float(metric.result()) == pytest.approx(np.sqrt(9 / 2))


def test_models_reload_from_keras_files_without_custom_objects(tmp_path):
    model = build_model("compact", 30, np.arange(30.0), [2.0] * 30, OPTIONS.options("compact"))
    model.compile(optimizer="adam", loss=MaskedMSE([2.0] * 30), metrics=[MaskedRMSE()])
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)  # safe_mode on, no custom_objects
    x = np.random.default_rng(0).uniform(0, 255, (3, 96, 96, 1)).astype("float32")
    np.testing.assert_allclose(
        reloaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5
    )


def test_soft_argmax_finds_each_heatmaps_peak_in_face_pixels():
    heatmaps = np.zeros((1, 24, 24, 2), "float32")
    heatmaps[0, 5, 10, 0] = heatmaps[0, 20, 3, 1] = 50.0  # one sharp peak per keypoint
    points = keras.ops.convert_to_numpy(SoftArgmax()(heatmaps))
    # cell (row 5, column 10) of 24 covers pixels 40-44 across and 20-24 down of the 96x96 face
    np.testing.assert_allclose(points, [[42.0, 22.0, 14.0, 82.0]], atol=1e-3)


def test_a_heatmap_specialist_starts_as_the_full_models_columns():
    model = build_model("heatmap_cnn", 30, MEAN, STD, OPTIONS.options("heatmap_cnn"))
    specialist = specialist_from(model, [4, 5, 6, 7], "eye_corners")
    x = np.random.default_rng(0).uniform(0, 255, (2, 96, 96, 1)).astype("float32")
    np.testing.assert_allclose(
        specialist.predict(x, verbose=0), model.predict(x, verbose=0)[:, 4:8], atol=1e-4
    )
