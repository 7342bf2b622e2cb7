"""Augmentations as pure NumPy/SciPy functions of (images, keypoints, mask, rng).

Each takes uint8 images (N, 96, 96), float32 keypoints (N, 30) with NaN where missing, a 0/1 mask
(N, 30) and a ``numpy.random.Generator``, and returns new (images, keypoints, mask); inputs are
never modified. Geometric ones move the keypoints with the pixels; photometric ones leave them.

``mirror`` is the flip convention of :mod:`facial_keypoints.domain.geometry` (x' = mirror - x); every
option comes from the ``augment`` parameters (``conf/base/parameters_data_engineering.yml``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy  # its submodules (ndimage, signal) load on first use, so `kedro` commands start fast

from facial_keypoints.domain.geometry import (
    CENTRE_INDEX,
    affine_matrices,
    centred_offsets,
    flip_keypoints,
    move_keypoints,
)
from facial_keypoints.domain.keypoints import ALL_COLUMNS, FLIP_PERMUTATION

Batch = tuple[np.ndarray, np.ndarray, np.ndarray]


def _to_uint8(images: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(images), 0, 255).astype(np.uint8)


def flip_horizontal(
    images: np.ndarray, keypoints: np.ndarray, mask: np.ndarray, rng: Any = None, *, mirror: float
) -> Batch:
    """Mirror every face left-right: flip pixels, map x to ``mirror - x``, swap left/right names."""
    flipped = flip_keypoints(keypoints, mirror, ALL_COLUMNS)
    return images[:, :, ::-1].copy(), flipped, mask[:, list(FLIP_PERMUTATION)].copy()


def random_flip(
    images: np.ndarray,
    keypoints: np.ndarray,
    mask: np.ndarray,
    rng: np.random.Generator,
    *,
    probability: float,
    mirror: float,
) -> Batch:
    """Mirror a random subset of faces (each with the given probability)."""
    chosen = rng.random(len(images)) < probability
    images, keypoints, mask = images.copy(), keypoints.copy(), mask.copy()
    images[chosen], keypoints[chosen], mask[chosen] = flip_horizontal(
        images[chosen], keypoints[chosen], mask[chosen], mirror=mirror
    )
    return images, keypoints, mask


def apply_affine(
    images: np.ndarray,
    keypoints: np.ndarray,
    mask: np.ndarray,
    matrices: np.ndarray,
    shifts: np.ndarray,
    mirror: float,
) -> Batch:
    """Move each face by ``p' = M (p - c) + c + shift`` about the image centre c; keypoints follow.

    Keypoints that leave the image become missing (NaN, mask 0).
    """
    out = np.empty_like(images)
    for i, (matrix, shift) in enumerate(zip(matrices, shifts, strict=True)):
        inverse = np.linalg.inv(matrix)[::-1, ::-1]  # pull-back map in (row, col) order
        start = CENTRE_INDEX - inverse @ (CENTRE_INDEX + shift[::-1])
        out[i] = scipy.ndimage.affine_transform(
            images[i], inverse, offset=start, order=1, mode="nearest"
        )
    new_keypoints = move_keypoints(keypoints, matrices, centred_offsets(matrices, shifts, mirror))
    new_mask = mask.copy()
    new_mask[np.isnan(new_keypoints)] = 0
    return out, new_keypoints, new_mask


def random_affine(
    images: np.ndarray,
    keypoints: np.ndarray,
    mask: np.ndarray,
    rng: np.random.Generator,
    *,
    max_rotation_deg: float,
    max_shift: float,
    scale_range: tuple[float, float],
    mirror: float,
) -> Batch:
    """Small random rotations, shifts and scalings; keypoints follow the same matrix."""
    matrices, shifts = affine_matrices(
        len(images), rng, max_rotation_deg, max_shift, tuple(scale_range)
    )
    return apply_affine(images, keypoints, mask, matrices, shifts, mirror)


def brightness_contrast(
    images: np.ndarray,
    keypoints: np.ndarray,
    mask: np.ndarray,
    rng: np.random.Generator,
    *,
    max_brightness: float,
    max_contrast: float,
) -> Batch:
    """Random brightness shift (fraction of 255) and contrast factor about each face's mean."""
    n = len(images)
    brightness = rng.uniform(-max_brightness, max_brightness, (n, 1, 1)) * 255
    contrast = rng.uniform(1 - max_contrast, 1 + max_contrast, (n, 1, 1))
    pixels = images.astype(np.float32)
    mean = pixels.mean(axis=(1, 2), keepdims=True)
    return _to_uint8((pixels - mean) * contrast + mean + brightness), keypoints.copy(), mask.copy()


def contrast_stretch(
    images: np.ndarray,
    keypoints: np.ndarray,
    mask: np.ndarray,
    rng: Any = None,
    *,
    low_percentile: float,
    high_percentile: float,
) -> Batch:
    """Stretch each face's intensities so the given percentiles map to 0 and 255."""
    pixels = images.astype(np.float32)
    low, high = np.percentile(pixels, [low_percentile, high_percentile], axis=(1, 2), keepdims=True)
    stretched = (pixels - low) / np.maximum(high - low, 1.0) * 255
    return _to_uint8(stretched), keypoints.copy(), mask.copy()


def inverse_blur(
    images: np.ndarray,
    keypoints: np.ndarray,
    mask: np.ndarray,
    rng: Any = None,
    *,
    sigma: float,
    amount: float,
) -> Batch:
    """Sharpening by "inverse blur" (unsharp masking): add back the difference from a Gaussian blur."""
    pixels = images.astype(np.float32)
    blurred = scipy.ndimage.gaussian_filter(pixels, sigma=(0, sigma, sigma))
    return _to_uint8(pixels + amount * (pixels - blurred)), keypoints.copy(), mask.copy()


def wiener_filter(
    images: np.ndarray, keypoints: np.ndarray, mask: np.ndarray, rng: Any = None, *, size: int
) -> Batch:
    """Adaptive Wiener denoising with a ``size`` x ``size`` window (the slides compared 3 and 9)."""
    pixels = images.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):  # flat regions have zero variance
        filtered = np.stack([scipy.signal.wiener(face, (size, size)) for face in pixels])
    filtered = np.where(np.isfinite(filtered), filtered, pixels)
    return _to_uint8(filtered), keypoints.copy(), mask.copy()


#: Every augmentation by the name its parameters use in ``parameters_data_engineering.yml``.
AUGMENTATIONS: dict[str, Callable[..., Batch]] = {
    "flip": flip_horizontal,
    "random_flip": random_flip,
    "affine": random_affine,
    "brightness_contrast": brightness_contrast,
    "contrast_stretch": contrast_stretch,
    "inverse_blur": inverse_blur,
    "wiener_3x3": wiener_filter,
    "wiener_9x9": wiener_filter,
}
