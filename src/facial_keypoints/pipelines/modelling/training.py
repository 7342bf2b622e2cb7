"""The training loop's concerns: masked loss and metric, optimisers and schedules, batches, callbacks.

All of it is Keras 3 (``keras.ops``), so it trains under the tensorflow, jax and torch backends.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import ops

from facial_keypoints.datasets import atomic_write
from facial_keypoints.pipelines.modelling.augment import augment_batch

logger = logging.getLogger(__name__)


def _present_and_filled(y_true: Any) -> tuple[Any, Any]:
    present = ops.logical_not(ops.isnan(y_true))
    return present, ops.where(present, y_true, ops.zeros_like(y_true))


@keras.saving.register_keras_serializable(package="facial_keypoints")
class MaskedMSE(keras.losses.Loss):
    """Mean squared error in standardised units over the PRESENT targets only (NaN = missing)."""

    def __init__(self, std: Sequence[float], name: str = "masked_mse", **kwargs: Any) -> None:
        """``std``: per-coordinate scale that errors are divided by before squaring."""
        super().__init__(name=name, **kwargs)
        self.std = [float(value) for value in std]

    def call(self, y_true: Any, y_pred: Any) -> Any:
        """Per-value losses, scaled so Keras' mean over all values is the mean over present ones."""
        present, filled = _present_and_filled(y_true)
        error = ops.where(present, (y_pred - filled) / ops.convert_to_tensor(self.std, y_pred.dtype), 0.0)
        weights = ops.cast(present, y_pred.dtype)
        scale = ops.cast(ops.size(weights), y_pred.dtype) / ops.maximum(ops.sum(weights), 1.0)
        return ops.square(error) * scale

    def get_config(self) -> dict[str, Any]:
        """Config for saving."""
        return {**super().get_config(), "std": self.std}


@keras.saving.register_keras_serializable(package="facial_keypoints")
class MaskedRMSE(keras.metrics.Metric):
    """Kaggle's metric: root mean squared error in pixels over the present values."""

    def __init__(self, name: str = "rmse", **kwargs: Any) -> None:
        """Start with empty sums."""
        super().__init__(name=name, **kwargs)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add a batch's squared errors and count of present values."""
        present, filled = _present_and_filled(y_true)
        squared = ops.where(present, ops.square(y_pred - filled), 0.0)
        self.total.assign_add(ops.cast(ops.sum(squared), self.dtype))
        self.count.assign_add(ops.cast(ops.sum(ops.cast(present, "float32")), self.dtype))

    def result(self) -> Any:
        """RMSE so far."""
        return ops.sqrt(self.total / ops.maximum(self.count, 1.0))

    def reset_state(self) -> None:
        """Forget the sums."""
        self.total.assign(0.0)
        self.count.assign(0.0)


@keras.saving.register_keras_serializable(package="facial_keypoints")
class ScheduledMomentumSGD(keras.optimizers.SGD):
    """SGD (Nesterov by default) whose momentum rises linearly, as in Nouri's tutorial (0.9 -> 0.999)."""

    def __init__(
        self,
        learning_rate: Any = 0.01,
        momentum: float = 0.9,
        final_momentum: float = 0.999,
        momentum_steps: int = 1000,
        nesterov: bool = True,
        **kwargs: Any,
    ) -> None:
        """Momentum goes from ``momentum`` to ``final_momentum`` over ``momentum_steps`` updates."""
        super().__init__(learning_rate=learning_rate, momentum=momentum, nesterov=nesterov, **kwargs)
        self.final_momentum = final_momentum
        self.momentum_steps = momentum_steps

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        """One SGD step with the momentum of the current iteration."""
        progress = ops.minimum(ops.cast(self.iterations, "float32") / float(self.momentum_steps), 1.0)
        momentum = ops.cast(self.momentum + (self.final_momentum - self.momentum) * progress, variable.dtype)
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        m = self.momentums[self._get_variable_index(variable)]
        self.assign(m, m * momentum - gradient * learning_rate)
        if self.nesterov:
            self.assign_add(variable, m * momentum - gradient * learning_rate)
        else:
            self.assign_add(variable, m)

    def get_config(self) -> dict[str, Any]:
        """Config for saving."""
        return {**super().get_config(), "final_momentum": self.final_momentum,
                "momentum_steps": self.momentum_steps}


def make_optimizer(config: dict[str, Any], steps: int) -> keras.optimizers.Optimizer:
    """The optimiser named in ``config`` with its schedule over ``steps`` updates."""
    name = config["name"]
    if name == "sgd":
        schedule = keras.optimizers.schedules.PolynomialDecay(
            config["learning_rate"], steps, end_learning_rate=config["final_learning_rate"], power=1.0
        )
        return ScheduledMomentumSGD(
            schedule,
            momentum=config.get("momentum", 0.9),
            final_momentum=config.get("final_momentum", config.get("momentum", 0.9)),
            momentum_steps=steps,
            nesterov=config.get("nesterov", True),
        )
    if name in ("adam", "adamw"):
        warmup = int(config.get("warmup_fraction", 0.05) * steps)
        schedule = keras.optimizers.schedules.CosineDecay(
            0.0, max(steps - warmup, 1), alpha=config.get("final_fraction", 0.01),
            warmup_target=config["learning_rate"], warmup_steps=warmup,
        )
        if name == "adam":
            return keras.optimizers.Adam(schedule)
        return keras.optimizers.AdamW(schedule, weight_decay=config.get("weight_decay", 1e-4))
    raise ValueError(f"optimizer must be 'sgd', 'adam' or 'adamw', got {name!r}")


class FaceBatches(keras.utils.PyDataset):
    """Shuffled batches of (pixels (B, 96, 96, 1), keypoints with NaN where missing), augmented on the fly.

    Faces are augmented with all 30 keypoints (so flips can swap left and right), then the batch keeps
    only ``columns`` (all by default; a specialist's group otherwise).
    """

    def __init__(
        self,
        images: np.ndarray,
        keypoints: np.ndarray,
        batch_size: int,
        seed: int,
        augment: dict[str, Any] | None = None,
        mirror: float = 96.0,
        columns: list[int] | None = None,
        start_epoch: int = 0,
        **kwargs: Any,
    ) -> None:
        """``augment``: options of :func:`augment_batch`, None for plain (validation) batches;
        ``start_epoch``: the epoch a resumed run continues from (so it sees the same batches)."""
        super().__init__(**kwargs)
        self.images, self.keypoints = images, keypoints
        self.columns = list(range(keypoints.shape[1])) if columns is None else columns
        self.batch_size, self.seed, self.augment, self.mirror = batch_size, seed, augment, mirror
        self.epoch = start_epoch
        self.order = self._order()

    def _order(self) -> np.ndarray:
        if self.augment is None:
            return np.arange(len(self.images))
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.images))

    def __len__(self) -> int:
        """Batches per epoch."""
        return math.ceil(len(self.images) / self.batch_size)

    def __getitem__(self, index: int) -> tuple[Any, np.ndarray]:
        """Batch ``index`` of the current epoch (augmented with its own seeded generator)."""
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        images = self.images[rows][..., None].astype(np.float32)
        keypoints = self.keypoints[rows]
        if self.augment is None:
            return images, keypoints[:, self.columns]
        rng = np.random.default_rng([self.seed, self.epoch, index])
        images, keypoints = augment_batch(images, keypoints, rng, self.mirror, **self.augment)
        return images, keypoints[:, self.columns]

    def on_epoch_end(self) -> None:
        """Reshuffle for the next epoch."""
        self.epoch += 1
        self.order = self._order()


class EpochTimer(keras.callbacks.Callback):
    """Adds each epoch's wall seconds to the logs (and so to the history)."""

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Start the clock."""
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Record the epoch's seconds."""
        if logs is not None:
            logs["seconds"] = time.perf_counter() - self._start


class Checkpoint(keras.callbacks.Callback):
    """Saves the whole training state after every epoch, so that a killed run resumes exactly.

    ``state.json`` holds the history, the early-stopping count, the dropout layers' random states
    and the numbers of the last and the best epoch, whose weights (model and optimiser) sit beside
    it as ``epoch-NNNN.weights.h5``. Each file is written to a temporary name and renamed into
    place, the weights before the state that names them, so a kill at any moment leaves the
    previous state or the new one, never a half-written file that a later run trusts. A checkpoint
    written for other parameters, another model (or starting weights) or other data is ignored.
    """

    def __init__(self, directory: Path, fingerprint: str, patience: int = 0) -> None:
        """Keep the state in ``directory``; stop early after ``patience`` epochs without progress."""
        super().__init__()
        self.directory, self.fingerprint, self.patience = Path(directory), fingerprint, patience
        self.state: dict[str, Any] = {"fingerprint": fingerprint, "epochs_done": 0, "history": {},
                                      "best_epoch": None, "best_val_loss": None, "wait": 0,
                                      "stopped": False, "seed_states": []}

    @property
    def _state_file(self) -> Path:
        return self.directory / "state.json"

    def _weights(self, epoch: int) -> Path:
        return self.directory / f"epoch-{epoch:04d}.weights.h5"

    def restore(self, model: keras.Model) -> int:
        """Load a matching checkpoint into the compiled ``model``; returns the epochs already done."""
        for leftover in self.directory.glob(".*.tmp*"):  # a write that a kill cut short
            leftover.unlink()
        if not self._state_file.exists():
            return 0
        state = json.loads(self._state_file.read_text())
        if state.get("fingerprint") != self.fingerprint:
            logger.warning("Ignoring the checkpoint in %s: it was written for other parameters, model "
                           "or data. Training %s from the start.", self.directory, self.directory.name)
            shutil.rmtree(self.directory)
            return 0
        model.optimizer.build(model.trainable_variables)
        model.load_weights(self._weights(state["epochs_done"]))
        for variable, value in zip(_seed_states(model), state["seed_states"], strict=True):
            variable.assign(np.asarray(value, dtype=variable.dtype))
        self.state = state
        logger.info("Resuming %s after epoch %d from %s", self.directory.name, state["epochs_done"],
                    self.directory)
        return state["epochs_done"]

    @property
    def stopped(self) -> bool:
        """Whether early stopping has ended this training."""
        return self.state["stopped"]

    @property
    def history(self) -> dict[str, list[float]]:
        """Per-epoch logs so far (loss, rmse, val_loss, val_rmse, seconds)."""
        return self.state["history"]

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Record the epoch, save its weights, then the state that names them."""
        state = self.state
        for key, value in (logs or {}).items():
            state["history"].setdefault(key, []).append(float(value))
        done = epoch + 1
        atomic_write(self._weights(done), self.model.save_weights, suffix=".weights.h5")
        val_loss = (logs or {}).get("val_loss")
        if state["best_epoch"] is None or (val_loss is not None and val_loss < state["best_val_loss"]):
            state["best_epoch"], state["best_val_loss"], state["wait"] = done, val_loss, 0
        else:
            state["wait"] += 1
        state["epochs_done"] = done
        state["seed_states"] = [ops.convert_to_numpy(v).tolist() for v in _seed_states(self.model)]
        state["stopped"] = bool(self.patience) and state["wait"] >= self.patience
        atomic_write(self._state_file, lambda tmp: tmp.write_text(json.dumps(state)))
        keep = {self._weights(done), self._weights(state["best_epoch"] if self.patience else done)}
        for old in self.directory.glob("epoch-*.weights.h5"):
            if old not in keep:
                old.unlink()
        if state["stopped"]:
            logger.info("Early stopping %s after epoch %d: the best was epoch %d", self.directory.name, done,
                        state["best_epoch"])
            self.model.stop_training = True

    def finish(self, model: keras.Model) -> None:
        """Give ``model`` the best epoch's weights (with early stopping) and delete the checkpoint."""
        best = self.state["best_epoch"]
        if self.patience and best is not None and best != self.state["epochs_done"]:
            model.load_weights(self._weights(best))
        shutil.rmtree(self.directory, ignore_errors=True)


def _seed_states(model: keras.Model) -> list[Any]:
    """The random-number states of the model's dropout layers (not in Keras' weights files)."""
    return [v for v in model.non_trainable_variables if v.path.endswith("seed_generator_state")]


def _fingerprint(model: keras.Model, train: tuple[np.ndarray, np.ndarray], config: dict[str, Any],
                 mirror: float, columns: list[int] | None) -> str:
    """What a checkpoint must have been written for to be resumed: model and its starting weights,
    data and parameters."""
    digest = hashlib.sha256()
    settings = {key: value for key, value in config.items() if key not in ("verbose", "checkpoint_dir")}
    arrays = [*train, *model.get_weights()]  # the starting weights stand for the architecture too
    digest.update(json.dumps([settings, mirror, columns, [a.shape for a in arrays]], sort_keys=True,
                             default=str).encode())
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def fit(
    model: keras.Model,
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    std: Sequence[float],
    config: dict[str, Any],
    mirror: float,
    checkpoint_dir: str | Path,
    columns: list[int] | None = None,
) -> dict[str, list[float]]:
    """Compile and train ``model`` on ``columns`` of the (all 30) keypoints; resumes from
    ``checkpoint_dir`` if a killed run left a checkpoint there.

    Returns the per-epoch history (loss, rmse, val_loss, val_rmse, seconds).
    """
    checkpoint = Checkpoint(Path(checkpoint_dir), _fingerprint(model, train, config, mirror, columns),
                            config.get("patience", 0))
    steps = math.ceil(len(train[0]) / config["batch_size"]) * config["epochs"]
    model.compile(
        optimizer=make_optimizer(config["optimizer"], steps),
        loss=MaskedMSE(std),
        metrics=[MaskedRMSE()],
    )
    done = checkpoint.restore(model)
    if done < config["epochs"] and not checkpoint.stopped:
        model.fit(
            FaceBatches(*train, config["batch_size"], config["seed"], config.get("augment"), mirror,
                        columns, start_epoch=done),
            validation_data=FaceBatches(*validation, 256, config["seed"], columns=columns),
            epochs=config["epochs"],
            initial_epoch=done,
            shuffle=False,  # FaceBatches shuffles by (seed, epoch); Keras' own shuffle would not resume
            callbacks=[EpochTimer(), checkpoint],
            verbose=config.get("verbose", 2),
        )
    checkpoint.finish(model)
    return checkpoint.history
