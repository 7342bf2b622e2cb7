"""Train the full model and the specialists: masked loss, optimiser schedule, seeded augmented batches,
epoch timing and checkpoints.

All of it is Keras 3 (``keras.ops``), so it trains under the tensorflow, jax and torch backends.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from facial_keypoints.domain.faces import Faces
from facial_keypoints.domain.keypoints import ALL_COLUMNS, SPECIALIST_GROUPS, columns_of
from facial_keypoints.domain.params import FullModelParams, ModelTrainingParams, TrainingParams
from facial_keypoints.domain.storage import local_folder
from facial_keypoints.nn.architectures import build_model
from facial_keypoints.nn.batches import FaceBatches
from facial_keypoints.nn.checkpoint import Checkpoint, fingerprint
from facial_keypoints.nn.devices import dtype_policy
from facial_keypoints.nn.layers import output_scale
from facial_keypoints.nn.losses import MaskedMSE, MaskedRMSE
from facial_keypoints.nn.optimizers import make_optimizer
from facial_keypoints.nn.specialists import specialist_from

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def compute_setup(training: TrainingParams) -> Iterator[None]:
    """Keras' precision policy and, with several accelerators, data parallelism over them, while
    one model is built and trained."""
    policy, distribution = keras.config.dtype_policy(), keras.distribution.distribution()
    devices = _parallel_devices(training.distribution)
    keras.config.set_dtype_policy(dtype_policy(training.precision))
    if devices:
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
        logger.info("Training data-parallel over %d devices", len(devices))
    try:
        yield
    finally:
        keras.config.set_dtype_policy(policy)
        keras.distribution.set_distribution(distribution)


def _parallel_devices(distribution: str) -> list[str]:
    """The devices to share each batch (every one Keras sees, under JAX with ``auto``); none when
    there is only one."""
    # keras.distribution is complete only for JAX; the other backends train on one device.
    if distribution == "off" or keras.backend.backend() != "jax":
        return []
    devices = keras.distribution.list_devices()
    return devices if len(devices) > 1 else []


def _devices_per_batch() -> int:
    """How many devices share each batch under the distribution in force (1 without one)."""
    distribution = keras.distribution.distribution()
    return 1 if distribution is None else int(distribution.device_mesh.devices.size)


class EpochTimer(keras.callbacks.Callback):
    """Adds each epoch's wall seconds to the logs (and so to the history)."""

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Start the clock."""
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Record the epoch's seconds."""
        if logs is not None:
            logs["seconds"] = time.perf_counter() - self._start


def fit(
    model: keras.Model,
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    std: Sequence[float],
    columns: list[int],
    mirror: float,
    params: ModelTrainingParams,
    training: TrainingParams,
    checkpoint_dir: Path,
) -> dict[str, list[float]]:
    """Compile and train ``model`` on ``columns`` of the (all 30) keypoints, on the devices of the
    distribution in force (:func:`compute_setup`); resumes from ``checkpoint_dir`` if a killed run
    left a checkpoint there.

    Args:
        model: a built model whose outputs are ``columns``, in pixels.
        train: training images (N, 96, 96) uint8 and keypoints (N, 30), NaN where missing.
        validation: the same for the faces that decide early stopping.
        std: each output's standard deviation over the training faces (the loss is in units of it).
        columns: the indices of the 30 coordinates that ``model`` predicts.
        mirror: the flip convention (``flip_convention.json``), for flips of the online augmentation.
        params: the model's block (``full_model``, or ``specialists`` with its overrides).
        training: the ``training`` block (seed, precision, checkpoints, augmentation).
        checkpoint_dir: where this model's epoch checkpoints go.

    Returns:
        The per-epoch history (loss, rmse, val_loss, val_rmse, seconds).
    """
    settings = {
        "model": params.model_dump(),
        "seed": training.seed,
        "precision": dtype_policy(training.precision),
        "augment": training.augment.model_dump(),
    }
    checkpoint = Checkpoint(
        checkpoint_dir, fingerprint(model, train, settings, mirror, columns), params.patience
    )
    steps = math.ceil(len(train[0]) / params.batch_size) * params.epochs
    model.compile(
        optimizer=make_optimizer(params.optimizer, steps),
        loss=MaskedMSE(std),
        metrics=[MaskedRMSE()],
    )
    done = checkpoint.restore(model)
    devices = _devices_per_batch()
    if done < params.epochs and not checkpoint.stopped:
        model.fit(
            FaceBatches(
                *train,
                params.batch_size,
                training.seed,
                columns,
                training.augment,
                mirror,
                start_epoch=done,
                multiple=devices,
            ),
            validation_data=FaceBatches(
                *validation,
                training.validation_batch_size,
                training.seed,
                columns,
                None,
                mirror,
                multiple=devices,
            ),
            epochs=params.epochs,
            initial_epoch=done,
            shuffle=False,  # FaceBatches shuffles by (seed, epoch); Keras' own shuffle would not resume
            callbacks=[EpochTimer(), checkpoint],
            verbose=training.verbose,
        )
    checkpoint.finish(model)
    return checkpoint.history


def training_rows(train: Faces, columns: list[int], rows: str) -> np.ndarray:
    """Faces to train on: any of the columns present (``any``) or all 30 present (``complete``)."""
    if rows == "complete":
        return train["mask"].all(axis=1)
    return train["mask"][:, columns].any(axis=1)


def summary(history: dict[str, list[float]], samples: int) -> dict[str, Any]:
    """What the reference slides tabulated by hand: samples, epochs, seconds, best RMSE, history."""
    epochs = len(history.get("loss", []))
    seconds = sum(history.get("seconds", []))  # summed per epoch, so it spans resumed runs too
    return {
        "training_samples": samples,
        "epochs": epochs,
        "seconds": seconds,
        "seconds_per_epoch": seconds / max(epochs, 1),
        "best_val_rmse": min(history["val_rmse"]) if epochs else None,
        "history": history,
    }


def train_full_model(
    train: Faces,
    validation: Faces,
    mirror: float,
    params: FullModelParams,
    options: dict[str, Any],
    training: TrainingParams,
    checkpoint: str,
) -> tuple[keras.Model, dict[str, Any]]:
    """Build the configured architecture and train it on all 30 coordinates with the masked loss;
    checkpoints go to ``checkpoint`` under ``training.checkpoint_dir`` (a local folder named
    after it when that is a URL: checkpoints stay on the machine that trains).

    Args:
        options: ``architectures.<full_model.architecture>`` as keyword arguments.

    Returns:
        The trained model, and its summary (history, training faces, epochs, seconds).
    """
    keras.utils.set_random_seed(training.seed)
    columns = ALL_COLUMNS
    rows = training_rows(train, columns, params.train_rows)
    keypoints = train["keypoints"][rows]
    mean, std = np.nanmean(keypoints, axis=0), np.nanstd(keypoints, axis=0)
    with compute_setup(training):
        model = build_model(params.architecture, len(columns), mean, std, options)
        logger.info(
            "Training %s (%s parameters, %s) on %d faces",
            model.name,
            f"{model.count_params():,}",
            dtype_policy(training.precision),
            int(rows.sum()),
        )
        history = fit(
            model,
            (train["images"][rows], keypoints),
            (validation["images"], validation["keypoints"]),
            std,
            columns,
            mirror,
            params,
            training,
            local_folder(training.checkpoint_dir) / checkpoint,
        )
    return model, summary(history, int(rows.sum()))


def train_specialist(
    full_model: keras.Model,
    group: str,
    train: Faces,
    validation: Faces,
    mirror: float,
    params: ModelTrainingParams,
    training: TrainingParams,
    checkpoint: str,
) -> tuple[keras.Model, dict[str, Any]]:
    """Fine-tune a copy of the full model on one keypoint group, on every face labelled for it;
    checkpoints go to ``checkpoint`` under ``training.checkpoint_dir``.

    Args:
        group: a key of ``SPECIALIST_GROUPS``.
        params: ``specialists`` with the group's overrides applied.

    Returns:
        The trained specialist, and its summary (history, training faces, epochs, seconds).
    """
    keras.utils.set_random_seed(training.seed)
    columns = columns_of(SPECIALIST_GROUPS[group])
    rows = training_rows(train, columns, params.train_rows)
    with compute_setup(training):
        model = specialist_from(full_model, columns, group)
        logger.info("Specialist %s: %d coordinates, %d faces", group, len(columns), int(rows.sum()))
        history = fit(
            model,
            (train["images"][rows], train["keypoints"][rows]),
            (validation["images"], validation["keypoints"]),
            output_scale(model).std,
            columns,
            mirror,
            params,
            training,
            local_folder(training.checkpoint_dir) / checkpoint,
        )
    return model, summary(history, int(rows.sum()))
