"""Keypoint geometry shared by the NumPy and the keras.ops augmentations: flips and affine maps.

Pixel convention: ``mirror`` is the sum x + x' of a point and its mirror image. With 96 a pixel's
centre sits at x + 0.5 (pixel c spans [c, c+1)); with 95 it sits at x. Flips and affine transforms
use the same convention, so keypoints stay on their features either way.
"""

from __future__ import annotations

import numpy as np

from facial_keypoints.domain.keypoints import FLIP_PERMUTATION, IMAGE_SIZE, X_COLUMNS, Y_COLUMNS

#: The image centre in array-index units, under either convention.
CENTRE_INDEX = (IMAGE_SIZE - 1) / 2


def pixel_offset(mirror: float) -> float:
    """The coordinate of pixel index 0's centre under the ``mirror`` convention (0.5 for 96)."""
    return (mirror - (IMAGE_SIZE - 1)) / 2


def flip_keypoints(keypoints: np.ndarray, mirror: float, columns: list[int]) -> np.ndarray:
    """Keypoints (N, len(columns)) of the mirrored faces, ``columns`` naming the Kaggle column of
    each: x becomes ``mirror - x``, left and right swap names (``columns`` holds both of a pair)."""
    flipped = keypoints.copy()
    x_columns = [i for i, column in enumerate(columns) if column in X_COLUMNS]
    flipped[:, x_columns] = mirror - flipped[:, x_columns]
    return flipped[:, [columns.index(FLIP_PERMUTATION[column]) for column in columns]]


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


def centred_offsets(matrices: np.ndarray, shifts: np.ndarray, mirror: float) -> np.ndarray:
    """Offsets b such that ``p' = M p + b`` equals ``M (p - c) + c + shift`` about the image centre c."""
    centre = CENTRE_INDEX + pixel_offset(mirror)
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
