"""On-the-fly augmentation of training batches with ``keras.ops`` (runs on the accelerator).

A random horizontal flip and a small random rotation/scale/shift are folded into ONE affine matrix
per face; ``keras.ops.image.affine_transform`` moves the pixels on the backend's device and the
keypoints follow the same matrix (30 numbers a face, in NumPy), with left/right names swapped on the
flipped faces. Brightness and contrast change with ``keras.ops`` arithmetic, and a cut-out hides
one random square of some faces (a hand, glasses, a microphone) while their keypoints stay
labelled. The conventions match :mod:`facial_keypoints.domain.geometry` (``mirror``:
x' = mirror - x), shared with the NumPy augmentations of :mod:`facial_keypoints.arrays.augment`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from keras import ops

from facial_keypoints.domain.geometry import (
    affine_matrices,
    centred_offsets,
    move_keypoints,
    pixel_offset,
)
from facial_keypoints.domain.keypoints import FLIP_PERMUTATION, IMAGE_SIZE
from facial_keypoints.domain.params import OnlineAugmentParams


def random_transforms(
    n: int, rng: np.random.Generator, mirror: float, augment: OnlineAugmentParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per face: a 2x2 matrix A and shift b on keypoint coordinates (p' = A p + b), and the flip flags."""
    matrices, shifts = affine_matrices(
        n, rng, augment.max_rotation_deg, augment.max_shift, augment.scale_range
    )
    offsets = centred_offsets(matrices, shifts, mirror)
    flipped = rng.random(n) < augment.flip_probability
    sign = np.where(flipped, -1.0, 1.0)
    matrices[:, 0, :] *= sign[:, None]
    offsets[:, 0] = np.where(flipped, mirror - offsets[:, 0], offsets[:, 0])
    return matrices, offsets, flipped


def transform_keypoints(
    keypoints: np.ndarray, matrices: np.ndarray, offsets: np.ndarray, flipped: np.ndarray
) -> np.ndarray:
    """Apply p' = A p + b to every keypoint, swap left/right names where flipped, NaN if outside."""
    out = move_keypoints(keypoints, matrices, offsets)
    out[flipped] = out[flipped][:, list(FLIP_PERMUTATION)]
    return out


def pullback_transforms(matrices: np.ndarray, offsets: np.ndarray, mirror: float) -> np.ndarray:
    """Keras' (N, 8) projective transforms mapping output pixel indices to input pixel indices."""
    offset = pixel_offset(mirror)
    index_offsets = offsets + np.einsum("nij,j->ni", matrices, [offset, offset]) - offset
    inverse = np.linalg.inv(matrices)
    start = -np.einsum("nij,nj->ni", inverse, index_offsets)
    zeros = np.zeros((len(matrices), 2))
    return np.concatenate(
        [inverse[:, 0, :], start[:, :1], inverse[:, 1, :], start[:, 1:], zeros], axis=1
    ).astype(np.float32)


def augment_batch(
    images: Any,
    keypoints: np.ndarray,
    rng: np.random.Generator,
    mirror: float,
    augment: OnlineAugmentParams,
) -> tuple[Any, np.ndarray]:
    """Randomly flip, rotate, scale, shift, relight and partly hide a batch (N, 96, 96, 1) of 0..255
    pixels."""
    n = len(keypoints)
    matrices, offsets, flipped = random_transforms(n, rng, mirror, augment)
    transforms = pullback_transforms(matrices, offsets, mirror)
    moved = ops.image.affine_transform(
        ops.convert_to_tensor(images, "float32"),
        ops.convert_to_tensor(transforms),
        interpolation="bilinear",
        fill_mode="nearest",
        data_format="channels_last",
    )
    max_brightness, max_contrast = augment.max_brightness, augment.max_contrast
    if max_brightness or max_contrast:
        contrast = rng.uniform(1 - max_contrast, 1 + max_contrast, (n, 1, 1, 1)).astype(np.float32)
        brightness = (rng.uniform(-max_brightness, max_brightness, (n, 1, 1, 1)) * 255).astype(
            np.float32
        )
        mean = ops.mean(moved, axis=(1, 2, 3), keepdims=True)
        moved = ops.clip((moved - mean) * contrast + mean + brightness, 0.0, 255.0)
    if augment.cutout_probability:
        moved = ops.where(
            cutout_masks(n, rng, augment), ops.mean(moved, axis=(1, 2, 3), keepdims=True), moved
        )
    return moved, transform_keypoints(keypoints, matrices, offsets, flipped)


def cutout_masks(n: int, rng: np.random.Generator, augment: OnlineAugmentParams) -> np.ndarray:
    """(n, 96, 96, 1) booleans: per face, with ``cutout_probability``, one square of side
    ``cutout_size`` at a random place (partly outside the image at the edges), True where hidden."""
    size = augment.cutout_size
    corners = rng.integers(-size // 2, IMAGE_SIZE - size // 2, (n, 2))
    # the faces left whole get their square off the image
    corners[rng.random(n) >= augment.cutout_probability] = -2 * size
    pixels = np.arange(IMAGE_SIZE)
    rows = (pixels >= corners[:, :1]) & (pixels < corners[:, :1] + size)
    columns = (pixels >= corners[:, 1:]) & (pixels < corners[:, 1:] + size)
    return (rows[:, :, None] & columns[:, None, :])[..., None]
