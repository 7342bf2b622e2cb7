"""Training loop: batches, schedules, resume after a crash, specialists, prediction with flip TTA."""

import importlib.util
import json

import keras
import numpy as np
import pytest

from facial_keypoints.domain.keypoints import COLUMNS, SPECIALIST_GROUPS, columns_of
from facial_keypoints.nn import checkpoint, devices, training
from facial_keypoints.nn.architectures import build_model
from facial_keypoints.nn.batches import FaceBatches
from facial_keypoints.nn.inference import _predict_both, predict, predict_pixels
from facial_keypoints.nn.layers import HEAD, SCALE
from facial_keypoints.nn.optimizers import make_optimizer
from facial_keypoints.nn.specialists import specialist_from
from facial_keypoints.nn.training import fit, train_full_model
from facial_keypoints.pipelines.data_engineering.nodes import parse_training
from tests.conftest import TINY_COMPACT, changed, run_python, spawns_its_own_backends

ALL = list(range(30))


@pytest.fixture
def faces(training_frame):
    return parse_training(training_frame)


@pytest.fixture
def settings(params):
    """Small, quick training settings: the base profile's with 4 epochs of 16-face batches."""
    model = changed(
        params["full_model"],
        epochs=4,
        patience=0,
        batch_size=16,
        optimizer={**params["full_model"].optimizer.model_dump(), "learning_rate": 0.001},
    )
    shared = changed(
        params["training"],
        seed=0,
        verbose=0,
        augment={**params["training"].augment.model_dump(), "max_rotation_deg": 5.0},
    )
    return model, shared


def run_fit(model, faces, settings, folder, **changes):
    params, shared = settings
    std = np.nanstd(faces["keypoints"], axis=0)
    train = (faces["images"], faces["keypoints"])
    seed = changes.pop("seed", None)
    if seed is not None:
        shared = changed(shared, seed=seed)
    return fit(model, train, train, std, ALL, 96.0, changed(params, **changes), shared, folder)


def test_batches_are_reproducible_and_reshuffled_each_epoch(faces, params):
    def epoch_ids(batches):
        return np.concatenate([batches.order[i * 16 : (i + 1) * 16] for i in range(len(batches))])

    augment = params["training"].augment
    a = FaceBatches(faces["images"], faces["keypoints"], 16, 3, ALL, augment, 96.0)
    b = FaceBatches(faces["images"], faces["keypoints"], 16, 3, ALL, augment, 96.0)
    np.testing.assert_array_equal(epoch_ids(a), epoch_ids(b))
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(a[1][0]), keras.ops.convert_to_numpy(b[1][0])
    )
    first = epoch_ids(a)
    a.on_epoch_end()
    assert sorted(epoch_ids(a)) == sorted(first) and not np.array_equal(epoch_ids(a), first)


def test_sgd_momentum_and_learning_rate_follow_the_tutorials_linear_schedules(params):
    sgd = changed(
        params["full_model"].optimizer,
        name="sgd",
        learning_rate=0.03,
        final_learning_rate=0.0001,
        momentum=0.9,
        final_momentum=0.999,
    )
    optimizer = make_optimizer(sgd, steps=10)
    assert float(optimizer.learning_rate) == pytest.approx(0.03)
    variable = keras.Variable(np.zeros(1, "float32"))
    optimizer.build([variable])
    for _ in range(10):
        optimizer.apply_gradients([(np.ones(1, "float32"), variable)])
    assert float(keras.ops.convert_to_numpy(optimizer.learning_rate)) == pytest.approx(0.0001)
    # After the schedule, each step's momentum is 0.999: the velocity barely decays.
    assert optimizer.final_momentum == 0.999 and optimizer.nesterov


def test_a_run_killed_mid_training_resumes_and_ends_as_an_uninterrupted_run(
    faces, settings, tmp_path, monkeypatch
):
    std = np.nanstd(faces["keypoints"], axis=0)
    mean = np.nanmean(faces["keypoints"], axis=0)
    x = faces["images"][..., None].astype("float32")

    def model():
        keras.utils.set_random_seed(0)
        return build_model("compact", 30, mean, std, TINY_COMPACT)

    uninterrupted = model()
    expected = run_fit(uninterrupted, faces, settings, tmp_path / "uninterrupted")

    original = training.EpochTimer.on_epoch_end

    def killed_in_the_third_epoch(self, epoch, logs=None):
        original(self, epoch, logs)
        if epoch == 2:
            raise KeyboardInterrupt("killed")

    monkeypatch.setattr(training.EpochTimer, "on_epoch_end", killed_in_the_third_epoch)
    with pytest.raises(KeyboardInterrupt):
        run_fit(model(), faces, settings, tmp_path / "killed")
    monkeypatch.undo()
    assert sorted(p.name for p in (tmp_path / "killed").iterdir()) == [
        "epoch-0002.weights.h5",
        "state.json",
    ]
    (tmp_path / "killed" / ".epoch-0003.weights.h5.x1.tmp.weights.h5").write_bytes(
        b"\x89HDF cut short"
    )

    started = []
    monkeypatch.setattr(
        training.EpochTimer,
        "on_epoch_begin",
        lambda self, epoch, logs=None: started.append(epoch) or setattr(self, "_start", 0),
    )
    resumed = model()
    history = run_fit(resumed, faces, settings, tmp_path / "killed")
    assert started == [2, 3]  # epochs 0 and 1 were restored, not trained again
    assert history["val_rmse"] == pytest.approx(expected["val_rmse"], abs=1e-6)
    np.testing.assert_allclose(
        resumed.predict(x, verbose=0), uninterrupted.predict(x, verbose=0), atol=1e-5
    )
    assert not (tmp_path / "killed").exists()  # a finished run leaves no checkpoint to resume


def test_a_checkpoint_of_other_parameters_is_not_resumed(faces, settings, tmp_path, monkeypatch):
    std = np.nanstd(faces["keypoints"], axis=0)
    mean = np.nanmean(faces["keypoints"], axis=0)
    monkeypatch.setattr(
        checkpoint.Checkpoint, "finish", lambda self, model: None
    )  # keep the checkpoint
    run_fit(build_model("mlp", 30, mean, std, {"hidden": 8}), faces, settings, tmp_path, epochs=2)
    monkeypatch.undo()
    history = run_fit(
        build_model("mlp", 30, mean, std, {"hidden": 8}), faces, settings, tmp_path, seed=1
    )
    assert len(history["loss"]) == 4  # trained from the start, not resumed from the other run


def test_early_stopping_gives_back_the_best_epochs_weights(faces, settings, tmp_path, monkeypatch):
    std = np.nanstd(faces["keypoints"], axis=0)
    mean = np.nanmean(faces["keypoints"], axis=0)
    losses = iter([3.0, 1.0, 2.0, 2.5, 0.5])
    original = training.EpochTimer.on_epoch_end
    saved = {}

    def scripted_val_loss(self, epoch, logs=None):
        original(self, epoch, logs)
        logs["val_loss"] = next(losses)
        saved[epoch] = [w.copy() for w in self.model.get_weights()]

    monkeypatch.setattr(training.EpochTimer, "on_epoch_end", scripted_val_loss)
    model = build_model("mlp", 30, mean, std, {"hidden": 8})
    history = run_fit(model, faces, settings, tmp_path, epochs=5, patience=2)
    assert history["val_loss"] == [3.0, 1.0, 2.0, 2.5]  # stopped two epochs after the best
    for got, best in zip(model.get_weights(), saved[1], strict=True):
        np.testing.assert_array_equal(got, best)


def test_a_specialist_starts_exactly_where_the_full_model_is(faces):
    model = build_model(
        "compact",
        30,
        np.nanmean(faces["keypoints"], 0),
        np.nanstd(faces["keypoints"], 0),
        TINY_COMPACT,
    )
    model.compile(optimizer="adam", loss="mse")
    model.fit(
        faces["images"][..., None].astype("float32"),
        np.nan_to_num(faces["keypoints"], nan=48.0),
        epochs=1,
        verbose=0,
    )
    columns = columns_of(SPECIALIST_GROUPS["eye_corners"])
    specialist = specialist_from(model, columns, "eye_corners")
    x = faces["images"][:8][..., None].astype("float32")
    np.testing.assert_allclose(
        specialist.predict(x, verbose=0), model.predict(x, verbose=0)[:, columns], atol=1e-4
    )


def test_flip_tta_of_a_mirror_symmetric_predictor_changes_nothing():
    inputs = keras.Input((96, 96, 1))
    # A constant, mirror-symmetric face: left eye at x = 60, right eye at 96 - 60, the rest centred.
    symmetric = np.tile(np.array([48.0, 50.0], "float32"), 15)
    symmetric[:4] = [60.0, 40.0, 36.0, 40.0]
    outputs = keras.layers.Lambda(
        lambda x: keras.ops.zeros((keras.ops.shape(x)[0], 30)) + symmetric
    )(inputs)
    model = keras.Model(inputs, outputs)
    images = np.random.default_rng(0).integers(0, 255, (3, 96, 96)).astype(np.uint8)
    plain = predict(model, images, ALL, 96.0, flip_tta=False, batch_size=256)
    with_tta = predict(model, images, ALL, 96.0, flip_tta=True, batch_size=256)
    np.testing.assert_allclose(with_tta, plain, atol=1e-4)
    assert COLUMNS[0] == "left_eye_center_x" and plain[0, 0] == 60.0


class BrightestPixel:
    """A stand-in model that finds the one bright pixel of each face and puts every keypoint there."""

    def predict_on_batch(self, batch):
        flat = batch[..., 0].reshape(len(batch), -1).argmax(axis=1)
        y, x = np.divmod(flat, batch.shape[2])
        return np.tile(np.stack([x, y], axis=1), 15).astype("float32")


@pytest.mark.parametrize("flip_tta", [False, True])
def test_shift_tta_moves_each_prediction_back_where_the_face_was(flip_tta):
    images = np.zeros((2, 96, 96), np.uint8)
    images[0, 30, 20] = images[1, 70, 50] = 255  # (x, y) = (20, 30) and (50, 70)
    plain, mirrored = _predict_both(BrightestPixel(), images, ALL, 95.0, flip_tta, 256, shift=3)
    for predicted in (plain, mirrored) if flip_tta else (plain,):
        np.testing.assert_allclose(predicted[:, :2], [[20, 30], [50, 70]])


def test_the_same_seed_trains_the_same_model_on_cpu(faces, settings, tmp_path):
    params, shared = settings
    params = changed(params, epochs=2)
    runs = []
    for attempt in range(2):
        folder = changed(shared, seed=5, checkpoint_dir=str(tmp_path / str(attempt)))
        model, summary = train_full_model(
            faces, faces, 96.0, params, TINY_COMPACT, folder, "full_model"
        )
        runs.append(
            (model.predict(faces["images"][..., None].astype("float32"), verbose=0), summary)
        )
    np.testing.assert_allclose(runs[0][0], runs[1][0], atol=1e-6)
    assert runs[0][1]["history"]["val_rmse"] == pytest.approx(
        runs[1][1]["history"]["val_rmse"], abs=1e-6
    )


@pytest.mark.parametrize("damage", ["garbage state", "truncated state", "truncated weights"])
def test_a_damaged_checkpoint_is_set_aside_and_training_starts_fresh(
    faces, settings, tmp_path, monkeypatch, caplog, damage
):
    std = np.nanstd(faces["keypoints"], axis=0)
    mean = np.nanmean(faces["keypoints"], axis=0)
    folder = tmp_path / "full_model"

    def mlp():
        keras.utils.set_random_seed(0)  # the same starting weights, so the checkpoint would resume
        return build_model("mlp", 30, mean, std, {"hidden": 8})

    monkeypatch.setattr(checkpoint.Checkpoint, "finish", lambda self, model: None)  # keep it
    run_fit(mlp(), faces, settings, folder)
    monkeypatch.undo()
    state = folder / "state.json"
    if damage == "garbage state":
        state.write_bytes(b"\x00\xff not json")
    elif damage == "truncated state":
        state.write_text(state.read_text()[:40])
    else:
        weights = folder / "epoch-0004.weights.h5"
        weights.write_bytes(weights.read_bytes()[:200])
    started = []
    original = training.EpochTimer.on_epoch_begin
    monkeypatch.setattr(
        training.EpochTimer,
        "on_epoch_begin",
        lambda self, epoch, logs=None: started.append(epoch) or original(self, epoch, logs),
    )
    history = run_fit(mlp(), faces, settings, folder)
    assert started == [0, 1, 2, 3] and len(history["loss"]) == 4  # trained from the start
    assert (tmp_path / "full_model.damaged" / "state.json").exists()
    assert "The checkpoint of full_model cannot be read" in caplog.text


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_trains_a_falling_finite_loss_and_saves_a_plain_keras_file(
    faces, settings, tmp_path, precision
):
    params, shared = settings
    shared = changed(shared, precision=precision, checkpoint_dir=str(tmp_path / "checkpoints"))
    model, summary = train_full_model(
        faces, faces, 96.0, changed(params, epochs=6), TINY_COMPACT, shared, "full_model"
    )
    assert keras.config.dtype_policy().name == "float32"  # the policy is the run's, not global
    losses = summary["history"]["loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    conv = next(layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D))
    assert conv.dtype_policy.compute_dtype == precision.removeprefix("mixed_")
    assert conv.dtype_policy.variable_dtype == "float32"
    head, scale = model.get_layer(HEAD), model.get_layer(SCALE)
    assert head.compute_dtype == scale.compute_dtype == "float32"  # pixels and the loss in float32
    if precision == "mixed_float16":
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # no custom_objects: the layers are registered
    x = faces["images"][:8][..., None].astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


DATA_PARALLEL = """
import json, sys
import keras
from facial_keypoints.arrays.synthetic import make_demo_frames
from facial_keypoints.domain.faces import subset
from facial_keypoints.nn.training import train_full_model
from facial_keypoints.pipelines.data_engineering.nodes import parse_training
from tests.conftest import TINY_COMPACT, changed, load_params

params = load_params()
faces = parse_training(make_demo_frames(n_train=72, n_test=4, seed=3)["training"])
train, validation = subset(faces, slice(0, 50)), subset(faces, slice(50, 72))
model = changed(params["full_model"], epochs=3, patience=0, batch_size=16)
shared = changed(
    params["training"], seed=0, verbose=0, precision="float32", checkpoint_dir=sys.argv[1]
)
_, summary = train_full_model(train, validation, 96.0, model, TINY_COMPACT, shared, "full_model")
history = summary["history"]
print(json.dumps({"devices": len(keras.distribution.list_devices()), **history}))
"""


@spawns_its_own_backends
@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_four_devices_train_as_one_under_jax(tmp_path):
    """Data-parallel over 4 (host) devices: each batch of 16 split 4 ways, the last ones padded
    with unlabelled faces (50 training faces: 16, 16, 16, 2 -> 4; 22 validation faces -> 24)."""
    runs = {}
    for count in (1, 4):
        result = run_python(
            DATA_PARALLEL,
            str(tmp_path / str(count)),
            KERAS_BACKEND="jax",
            XLA_FLAGS=f"--xla_force_host_platform_device_count={count}",
        )
        assert result.returncode == 0, result.stderr[-3000:]
        runs[count] = json.loads(result.stdout.strip().splitlines()[-1])
    assert runs[1]["devices"] == 1 and runs[4]["devices"] == 4
    for series in ("val_rmse", "rmse"):
        assert runs[4][series] == pytest.approx(runs[1][series], abs=1e-4), series


@pytest.mark.parametrize(
    ("flags", "expected"),
    [("fpu sse2 avx512f avx512_bf16 amx_tile", True), ("fpu sse2 avx2", False), (None, False)],
)
def test_auto_precision_is_bfloat16_only_on_a_cpu_with_bfloat16_units(
    tmp_path, monkeypatch, flags, expected
):
    cpuinfo = tmp_path / "cpuinfo"
    if flags is not None:
        cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    assert devices.cpu_has_bf16(cpuinfo) is expected
    monkeypatch.setattr(devices, "cpu_has_bf16", lambda: expected)
    monkeypatch.setattr(devices, "describe", lambda: "CPU")
    assert devices.dtype_policy("auto") == ("mixed_bfloat16" if expected else "float32")
    assert devices.dtype_policy("mixed_float16") == "mixed_float16"
    monkeypatch.setattr(devices, "describe", lambda: "GPU: NVIDIA H200")
    assert devices.dtype_policy("auto") == "float32"


class BatchRecorder:
    """A stand-in model that records the size of each batch it is given and answers its row index."""

    def __init__(self):
        self.sizes = []

    def predict_on_batch(self, batch):
        self.sizes.append(len(batch))
        return np.tile(np.arange(len(batch), dtype="float32")[:, None], (1, 30))


@pytest.mark.parametrize(
    ("faces", "sizes"), [(1, [1]), (2, [2]), (3, [4]), (64, [64]), (65, [128]), (300, [256, 64])]
)
def test_a_short_batch_is_padded_to_a_power_of_two_and_the_padding_dropped(faces, sizes):
    model = BatchRecorder()
    out = predict_pixels(model, np.zeros((faces, 96, 96, 1), "float32"), batch_size=256)
    assert model.sizes == sizes
    assert len(out) == faces
    assert out[-1, 0] == (faces - 1) % 256  # each answer is its own face's, not a padding row's
