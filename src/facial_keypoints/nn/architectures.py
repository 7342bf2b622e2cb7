"""Keras 3 models for keypoint regression, built from parameters; backend-agnostic (no ``tf.*``).

Every model takes raw pixels (N, 96, 96, 1) in 0..255 and returns keypoint coordinates in pixels.
Its last layer, :class:`~facial_keypoints.nn.layers.KeypointScale`, maps standardised outputs back to pixels with the training
targets' per-coordinate mean and standard deviation, so a fresh model already predicts the mean
shape and the saved ``.keras`` file needs no preprocessing outside it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
from keras import layers

from facial_keypoints.domain.keypoints import IMAGE_SIZE
from facial_keypoints.nn.layers import (
    HEAD,
    SCALE,
    KeypointScale,
    KeypointStandardise,
    SoftArgmax,
)

INPUT_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)


def _head(features: Any, n_outputs: int, mean: Sequence[float], std: Sequence[float]) -> Any:
    # float32 whatever the precision policy: coordinates in pixels need more than 16 bits.
    raw = layers.Dense(n_outputs, name=HEAD, dtype="float32")(features)
    return KeypointScale(mean, std, name=SCALE, dtype="float32")(raw)


def _conv_block(x: Any, filters: int, batch_norm: bool, dilation: int = 1) -> Any:
    """A 3x3 convolution ("same" padding), batch norm if asked (then no bias), ReLU."""
    x = layers.Conv2D(filters, 3, padding="same", dilation_rate=dilation, use_bias=not batch_norm)(
        x
    )
    if batch_norm:
        x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def _inputs() -> tuple[Any, Any]:
    inputs = keras.Input(INPUT_SHAPE, name="image")
    return inputs, layers.Rescaling(1 / 255, name="pixels_0_1")(inputs)


def mlp(n_outputs: int, mean: Sequence[float], std: Sequence[float], *, hidden: int) -> keras.Model:
    """One hidden layer on the raw pixels: the tutorial's first net, the slides' "Model 1"."""
    inputs, x = _inputs()
    x = layers.Flatten()(x)
    x = layers.Dense(hidden, activation="relu")(x)
    return keras.Model(inputs, _head(x, n_outputs, mean, std), name="mlp")


def tutorial_cnn(
    n_outputs: int,
    mean: Sequence[float],
    std: Sequence[float],
    *,
    dropout: Sequence[float],
) -> keras.Model:
    """Daniel Nouri's tutorial net for this competition (his final one): conv 32/64/128 (3x3, 2x2, 2x2) + pool + dropout, dense 1000 x 2."""
    inputs, x = _inputs()
    for filters, kernel, rate in zip((32, 64, 128), (3, 2, 2), dropout[:3], strict=True):
        x = layers.Conv2D(filters, kernel, activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Dropout(rate)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(1000, activation="relu")(x)
    x = layers.Dropout(dropout[3])(x)
    x = layers.Dense(1000, activation="relu")(x)
    return keras.Model(inputs, _head(x, n_outputs, mean, std), name="tutorial_cnn")


def report_cnn(
    n_outputs: int, mean: Sequence[float], std: Sequence[float], *, dropout: float
) -> keras.Model:
    """The reference report's final model: conv 24/48/96/192, batch-norm and dropout, dense 500 x 2."""
    inputs, x = _inputs()
    for index, filters in enumerate((24, 48, 96, 192)):
        x = layers.Conv2D(filters, 3 if index == 0 else 2, activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
        if index in (1, 2, 3):
            x = layers.BatchNormalization()(x)
        if index in (1, 3):
            x = layers.Dropout(dropout)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(500, activation="relu")(x)
    x = layers.Dense(500, activation="relu")(x)
    return keras.Model(inputs, _head(x, n_outputs, mean, std), name="report_cnn")


def compact(
    n_outputs: int,
    mean: Sequence[float],
    std: Sequence[float],
    *,
    filters: Sequence[int],
    convs_per_block: int,
    batch_norm: bool,
    dense_units: int,
    dropout: float,
) -> keras.Model:
    """The kit's default: VGG-style 3x3 conv blocks with max-pooling, then one dense layer."""
    inputs, x = _inputs()
    for block_filters in filters:
        for _ in range(convs_per_block):
            x = _conv_block(x, block_filters, batch_norm)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(dense_units, activation="relu")(x)
    return keras.Model(inputs, _head(x, n_outputs, mean, std), name="compact")


def heatmap_cnn(
    n_outputs: int,
    mean: Sequence[float],
    std: Sequence[float],
    *,
    filters: Sequence[int],
    dilations: Sequence[int],
    batch_norm: bool,
) -> keras.Model:
    """Integral regression: convolutions draw one heatmap per keypoint at a quarter of the face's
    resolution (dilated convolutions see the whole face), each keypoint is its heatmap's soft-argmax,
    and a linear head (identity at first) refines the coordinates."""
    inputs, x = _inputs()
    x = layers.MaxPooling2D(2)(_conv_block(x, filters[0], batch_norm))
    x = layers.MaxPooling2D(2)(_conv_block(x, filters[1], batch_norm))
    for dilation in dilations:
        x = _conv_block(x, filters[2], batch_norm, dilation)
    # float32 from the heatmaps on: a softmax over 576 cells and pixel coordinates need it.
    heatmaps = layers.Conv2D(n_outputs // 2, 1, name="heatmaps", dtype="float32")(x)
    points = SoftArgmax(name="soft_argmax", dtype="float32")(heatmaps)
    standardised = KeypointStandardise(mean, std, name="standardised", dtype="float32")(points)
    raw = layers.Dense(n_outputs, name=HEAD, kernel_initializer="identity", dtype="float32")(
        standardised
    )
    return keras.Model(
        inputs, KeypointScale(mean, std, name=SCALE, dtype="float32")(raw), name="heatmap_cnn"
    )


ARCHITECTURES: dict[str, Callable[..., keras.Model]] = {
    "mlp": mlp,
    "tutorial_cnn": tutorial_cnn,
    "report_cnn": report_cnn,
    "compact": compact,
    "heatmap_cnn": heatmap_cnn,
}


def build_model(
    architecture: str,
    n_outputs: int,
    mean: Sequence[float],
    std: Sequence[float],
    options: dict[str, Any],
) -> keras.Model:
    """Build the named architecture with ``n_outputs`` coordinates and its options
    (``architectures.<name>`` in the parameters)."""
    return ARCHITECTURES[architecture](n_outputs, mean, std, **options)
