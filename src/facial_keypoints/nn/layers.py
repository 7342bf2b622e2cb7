"""The kit's own Keras layer: standardised outputs back to pixels, saved inside every model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import layers, ops

#: Names of the two last layers of every model, which a specialist's copy cuts to its columns.
HEAD = "standardised_keypoints"
SCALE = "keypoints"


@keras.saving.register_keras_serializable(package="facial_keypoints")
class KeypointScale(layers.Layer):
    """``outputs * std + mean``: standardised coordinates back to pixels (fixed, not trained)."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], **kwargs: Any) -> None:
        """Store the per-coordinate mean and standard deviation of the training targets."""
        super().__init__(**kwargs)
        self.mean = [float(value) for value in mean]
        self.std = [float(value) for value in std]

    def call(self, inputs: Any) -> Any:
        """Scale and shift each coordinate."""
        return inputs * ops.convert_to_tensor(self.std, inputs.dtype) + ops.convert_to_tensor(
            self.mean, inputs.dtype
        )

    def get_config(self) -> dict[str, Any]:
        """Config for saving."""
        return {**super().get_config(), "mean": self.mean, "std": self.std}


def output_scale(model: keras.Model) -> KeypointScale:
    """The model's :class:`KeypointScale` layer (its ``std`` scales the loss)."""
    return next(layer for layer in model.layers if isinstance(layer, KeypointScale))
