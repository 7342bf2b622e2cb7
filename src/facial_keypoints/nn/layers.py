"""The kit's own Keras layers, saved inside every model: standardised outputs back to pixels (and
pixels to standardised values), and the soft-argmax of keypoint heatmaps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import layers, ops

from facial_keypoints.domain.keypoints import IMAGE_SIZE

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


@keras.saving.register_keras_serializable(package="facial_keypoints")
class KeypointStandardise(KeypointScale):
    """``(inputs - mean) / std``: pixels to standardised coordinates (fixed, not trained)."""

    def call(self, inputs: Any) -> Any:
        """Shift and scale each coordinate."""
        return (inputs - ops.convert_to_tensor(self.mean, inputs.dtype)) / ops.convert_to_tensor(
            self.std, inputs.dtype
        )


@keras.saving.register_keras_serializable(package="facial_keypoints")
class SoftArgmax(layers.Layer):
    """Heatmaps (N, H, W, K) to K keypoints (N, 2K: x, y of each, in pixels of the 96x96 face):
    each keypoint is the expected position under its heatmap's softmax (integral regression), a
    differentiable argmax with sub-cell precision."""

    def call(self, heatmaps: Any) -> Any:
        """The expected (x, y) of each softmaxed heatmap, cell centres in face pixels."""
        _, height, width, count = heatmaps.shape
        weights = ops.softmax(ops.reshape(heatmaps, (-1, height * width, count)), axis=1)
        xs = (ops.arange(width, dtype=heatmaps.dtype) + 0.5) * (IMAGE_SIZE / width)
        ys = (ops.arange(height, dtype=heatmaps.dtype) + 0.5) * (IMAGE_SIZE / height)
        grid_x = ops.reshape(ops.tile(xs[None, :], (height, 1)), (1, -1, 1))
        grid_y = ops.reshape(ops.tile(ys[:, None], (1, width)), (1, -1, 1))
        x = ops.sum(weights * grid_x, axis=1)
        y = ops.sum(weights * grid_y, axis=1)
        return ops.reshape(ops.stack([x, y], axis=-1), (-1, 2 * count))

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, int]:
        """(N, 2K)."""
        return (input_shape[0], 2 * input_shape[3])


def output_scale(model: keras.Model) -> KeypointScale:
    """The model's :class:`KeypointScale` layer (its ``std`` scales the loss)."""
    return model.get_layer(SCALE)
