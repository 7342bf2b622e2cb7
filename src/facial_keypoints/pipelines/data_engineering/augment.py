"""Augmentations as pure NumPy/SciPy functions of (images, keypoints, mask, rng).

Each takes uint8 images (N, 96, 96), float32 keypoints (N, 30) with NaN where missing, a 0/1 mask
(N, 30) and a ``numpy.random.Generator``, and returns new (images, keypoints, mask); inputs are
never modified. Geometric ones move the keypoints with the pixels; photometric ones leave them.

Pixel convention: ``mirror`` is the sum x + x' of a point and its mirror image. With the default
96 a pixel's centre sits at x + 0.5 (pixel c spans [c, c+1)); with 95 it sits at x. Both flip and
affine transforms use the same convention, so keypoints stay on their features either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import ndimage, signal

from facial_keypoints.keypoints import (
    COLUMN_INDEX,
    FLIP_PAIRS,
    FLIP_PERMUTATION,
    IMAGE_SIZE,
    X_COLUMNS,
    Y_COLUMNS,
)

Batch = tuple[np.ndarray, np.ndarray, np.ndarray]
_CENTRE_INDEX = (IMAGE_SIZE - 1) / 2  # the image centre in array-index units, either convention


def _to_uint8(images: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(images), 0, 255).astype(np.uint8)


def flip_horizontal(
    images: np.ndarray, keypoints: np.ndarray, mask: np.ndarray, rng: Any = None, mirror: float = 96.0
) -> Batch:
    """Mirror every face left-right: flip pixels, map x to ``mirror - x``, swap left/right names."""
    flipped = keypoints.copy()
    flipped[:, X_COLUMNS] = mirror - flipped[:, X_COLUMNS]
    perm = list(FLIP_PERMUTATION)
    return images[:, :, ::-1].copy(), flipped[:, perm], mask[:, perm].copy()


def random_flip(
    images: np.ndarray,
    keypoints: np.ndarray,
    mask: np.ndarray,
    rng: np.random.Generator,
    probability: float = 0.5,
    mirror: float = 96.0,
) -> Batch:
    """Mirror a random subset of faces (each with the given probability)."""
    chosen = rng.random(len(images)) < probability
    images, keypoints, mask = images.copy(), keypoints.copy(), mask.copy()
    images[chosen], keypoints[chosen], mask[chosen] = flip_horizontal(
        images[chosen], keypoints[chosen], mask[chosen], mirror=mirror
    )
    return images, keypoints, mask


def affine_matrices(
    n: int,
    rng: np.random.Generator,
    max_rotation_deg: float,
    max_shift: float,
    scale_range: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray]:
    """Random 2x2 matrices (rotation times scale, in x/y order) and shifts (N, 2) in pixels."""
    angles = np.deg2rad(rng.uniform(-max_rotation_deg, max_rotation_deg, n))
    scales = rng.uniform(*scale_range, n)
    cos, sin = np.cos(angles) * scales, np.sin(angles) * scales
    matrices = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)
    shifts = rng.uniform(-max_shift, max_shift, (n, 2))
    return matrices, shifts


def pixel_offset(mirror: float) -> float:
    """The coordinate of pixel index 0's centre under the ``mirror`` convention (0.5 for 96)."""
    return (mirror - (IMAGE_SIZE - 1)) / 2


def centred_offsets(matrices: np.ndarray, shifts: np.ndarray, mirror: float) -> np.ndarray:
    """Offsets b such that ``p' = M p + b`` equals ``M (p - c) + c + shift`` about the image centre c."""
    centre = _CENTRE_INDEX + pixel_offset(mirror)
    return centre + shifts - np.einsum("nij,j->ni", matrices, np.array([centre, centre]))


def move_keypoints(keypoints: np.ndarray, matrices: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``p' = M p + b`` for every keypoint of each face; points that leave the image become NaN."""
    points = np.stack([keypoints[:, X_COLUMNS], keypoints[:, Y_COLUMNS]], -1)
    moved = np.einsum("nij,nkj->nki", matrices, points) + offsets[:, None, :]
    out = np.empty_like(keypoints)
    out[:, X_COLUMNS], out[:, Y_COLUMNS] = moved[..., 0], moved[..., 1]
    outside = (out < 0) | (out > IMAGE_SIZE)
    outside[:, X_COLUMNS] |= outside[:, Y_COLUMNS]
    outside[:, Y_COLUMNS] = outside[:, X_COLUMNS]
    out[outside] = np.nan
    return out


def apply_affine(
    images: np.ndarray,
    keypoints: np.ndarray,
    mask: np.ndarray,
    matrices: np.ndarray,
    shifts: np.ndarray,
    mirror: float = 96.0,
) -> Batch:
    """Move each face by ``p' = M (p - c) + c + shift`` about the image centre c; keypoints follow.

    Keypoints that leave the image become missing (NaN, mask 0).
    """
    out = np.empty_like(images)
    for i, (matrix, shift) in enumerate(zip(matrices, shifts, strict=True)):
        inverse = np.linalg.inv(matrix)[::-1, ::-1]  # pull-back map in (row, col) order
        start = _CENTRE_INDEX - inverse @ (_CENTRE_INDEX + shift[::-1])
        out[i] = ndimage.affine_transform(images[i], inverse, offset=start, order=1, mode="nearest")
    new_keypoints = move_keypoints(keypoints, matrices, centred_offsets(matrices, shifts, mirror))
    new_mask = mask.copy()
    new_mask[np.isnan(new_keypoints)] = 0
    return out, new_keypoints, new_mask


def random_affine(
    images: np.ndarray,
    keypoints: np.ndarray,
    mask: np.ndarray,
    rng: np.random.Generator,
    max_rotation_deg: float = 10.0,
    max_shift: float = 4.0,
    scale_range: tuple[float, float] = (0.92, 1.08),
    mirror: float = 96.0,
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
    max_brightness: float = 0.1,
    max_contrast: float = 0.2,
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
    low_percentile: float = 2.0,
    high_percentile: float = 98.0,
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
    sigma: float = 1.0,
    amount: float = 1.0,
) -> Batch:
    """"Inverse blur" sharpening (unsharp masking): add back the difference from a Gaussian blur."""
    pixels = images.astype(np.float32)
    blurred = ndimage.gaussian_filter(pixels, sigma=(0, sigma, sigma))
    return _to_uint8(pixels + amount * (pixels - blurred)), keypoints.copy(), mask.copy()


def wiener_filter(
    images: np.ndarray, keypoints: np.ndarray, mask: np.ndarray, rng: Any = None, size: int = 3
) -> Batch:
    """Adaptive Wiener denoising with a ``size`` x ``size`` window (the slides compared 3 and 9)."""
    pixels = images.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):  # flat regions have zero variance
        filtered = np.stack([signal.wiener(face, (size, size)) for face in pixels])
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



def _mean_patch(images: np.ndarray, xs: np.ndarray, ys: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """Mean over faces of bilinear samples at rows ``ys - 4 .. ys + 4`` and columns ``xs + dx``."""
    rows = ys[:, None, None] + np.arange(-4.0, 5.0)[None, :, None]
    cols = xs[:, None, None] + dx[None, None, :]
    rows, cols = np.broadcast_arrays(rows, cols)
    faces = np.broadcast_to(np.arange(len(xs))[:, None, None], rows.shape)
    samples = ndimage.map_coordinates(images, [faces.ravel(), rows.ravel(), cols.ravel()], order=1)
    return samples.reshape(rows.shape).mean(axis=0)


def estimate_mirror(
    images: np.ndarray, keypoints: np.ndarray, max_faces: int = 1000
) -> tuple[float, dict[str, float]]:
    """Estimate ``mirror`` from labelled faces: the value that makes left features mirror right ones.

    For each flip pair, the mean patch around the right keypoint is compared with the mirrored mean
    patch around the left keypoint shifted by ``mirror - 95``; the best of 93..99 in steps of 0.25
    wins. Labels putting a pixel's centre at x + 0.5 (and symmetric annotators) give 96. Returns the
    median over pairs and each pair's estimate.
    """
    candidates = np.arange(93.0, 99.01, 0.25)
    dx = np.arange(-8.0, 9.0)
    pixels, points = images[:max_faces].astype(np.float32), keypoints[:max_faces]
    per_pair = {}
    for left, right in FLIP_PAIRS:
        lx, ly, rx, ry = (points[:, COLUMN_INDEX[f"{kp}_{axis}"]] for kp in (left, right) for axis in "xy")
        both = ~np.isnan(lx + ly + rx + ry)
        if both.sum() < 20:  # noqa: PLR2004  too few faces for a stable mean patch
            continue
        faces, lx, ly, rx, ry = pixels[both], lx[both], ly[both], rx[both], ry[both]
        right_patch = _mean_patch(faces, rx, ry, dx)
        errors = [
            np.mean((right_patch - _mean_patch(faces, lx, ly, -dx - 2 * pixel_offset(mirror))) ** 2)
            for mirror in candidates
        ]
        per_pair[left.removeprefix("left_")] = float(candidates[int(np.argmin(errors))])
    if not per_pair:
        return float(IMAGE_SIZE), per_pair
    return float(np.median(list(per_pair.values()))), per_pair
