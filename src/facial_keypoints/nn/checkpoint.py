"""Crash-safe training state: one atomic checkpoint per epoch, resumed exactly after a kill."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import ops

from facial_keypoints.domain.atomic import array_bytes, atomic_write
from facial_keypoints.domain.errors import first_line

logger = logging.getLogger(__name__)


class Checkpoint(keras.callbacks.Callback):
    """Saves the whole training state after every epoch, so that a killed run resumes exactly.

    ``state.json`` holds the history, the early-stopping count, the dropout layers' random states
    and the numbers of the last and the best epoch, whose weights (model and optimiser) sit beside
    it as ``epoch-NNNN.weights.h5``. Each file is written to a temporary name and renamed into
    place, the weights before the state that names them, so a kill at any moment leaves the
    previous state or the new one, never a half-written file that a later run trusts. A checkpoint
    written for other parameters, another model (or starting weights) or other data is ignored.
    """

    def __init__(self, directory: Path, fingerprint: str, patience: int) -> None:
        """Keep the state in ``directory``; stop early after ``patience`` epochs without progress."""
        super().__init__()
        self.directory, self.fingerprint, self.patience = Path(directory), fingerprint, patience
        self.state: dict[str, Any] = {
            "fingerprint": fingerprint,
            "epochs_done": 0,
            "history": {},
            "best_epoch": None,
            "best_val_loss": None,
            "wait": 0,
            "stopped": False,
            "seed_states": [],
        }

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
        try:
            state = json.loads(self._state_file.read_text())
            done = int(state["epochs_done"])
        except (ValueError, KeyError, TypeError) as exc:  # garbage or a truncated file
            return self._set_aside(exc)
        if state.get("fingerprint") != self.fingerprint:
            logger.warning(
                "Ignoring the checkpoint in %s: it was written for other parameters, model "
                "or data. Training %s from the start.",
                self.directory,
                self.directory.name,
            )
            shutil.rmtree(self.directory)
            return 0
        model.optimizer.build(model.trainable_variables)
        variables = [*model.variables, *model.optimizer.variables]
        fresh = [ops.convert_to_numpy(variable) for variable in variables]
        try:
            model.load_weights(self._weights(done))
            for variable, value in zip(_seed_states(model), state["seed_states"], strict=True):
                variable.assign(np.asarray(value, dtype=variable.dtype))
        except Exception as exc:  # h5py and Keras raise many kinds of error for a damaged file
            for variable, value in zip(variables, fresh, strict=True):
                variable.assign(value)  # a load that failed half-way must not leave its weights
            return self._set_aside(exc)
        self.state = state
        logger.info(
            "Resuming %s after epoch %d from %s",
            self.directory.name,
            state["epochs_done"],
            self.directory,
        )
        return state["epochs_done"]

    def _set_aside(self, error: Exception) -> int:
        """Move an unreadable checkpoint out of the way, say so, and start from epoch 0."""
        damaged = self.directory.with_name(f"{self.directory.name}.damaged")
        shutil.rmtree(damaged, ignore_errors=True)
        self.directory.rename(damaged)
        logger.warning(
            "The checkpoint of %s cannot be read (%s): moved it to %s and training %s from the start.",
            self.directory.name,
            first_line(error),
            damaged,
            self.directory.name,
        )
        return 0

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
        atomic_write(
            self._weights(done),
            self.model.save_weights,
            suffix=".weights.h5",
            needs=array_bytes([*self.model.variables, *self.model.optimizer.variables]),
        )
        val_loss = (logs or {}).get("val_loss")
        if state["best_epoch"] is None or (
            val_loss is not None and val_loss < state["best_val_loss"]
        ):
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
            logger.info(
                "Early stopping %s after epoch %d: the best was epoch %d",
                self.directory.name,
                done,
                state["best_epoch"],
            )
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


def fingerprint(
    model: keras.Model,
    train: tuple[np.ndarray, np.ndarray],
    settings: dict[str, Any],
    mirror: float,
    columns: list[int],
) -> str:
    """What a checkpoint must have been written for to be resumed: model and its starting weights,
    data and the settings that change training."""
    digest = hashlib.sha256()
    arrays = [*train, *model.get_weights()]  # the starting weights stand for the architecture too
    digest.update(
        json.dumps(
            [settings, mirror, columns, [a.shape for a in arrays]], sort_keys=True, default=str
        ).encode()
    )
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()
