"""The masked loss and Kaggle's metric: errors over the present keypoints only (NaN = missing)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import ops


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
        error = ops.where(
            present, (y_pred - filled) / ops.convert_to_tensor(self.std, y_pred.dtype), 0.0
        )
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
