"""Estimate the flip convention from the faces themselves: the mirror that makes left match right."""

from __future__ import annotations

import numpy as np
import scipy  # scipy.ndimage loads on first use, so `kedro` commands start fast

from facial_keypoints.domain.geometry import pixel_offset
from facial_keypoints.domain.keypoints import COLUMN_INDEX, FLIP_PAIRS, IMAGE_SIZE

_MIN_FACES = 20  # fewer faces labelled for a pair give no stable mean patch


def _mean_patch(images: np.ndarray, xs: np.ndarray, ys: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """Mean over faces of bilinear samples at rows ``ys - 4 .. ys + 4`` and columns ``xs + dx``."""
    rows = ys[:, None, None] + np.arange(-4.0, 5.0)[None, :, None]
    cols = xs[:, None, None] + dx[None, None, :]
    rows, cols = np.broadcast_arrays(rows, cols)
    faces = np.broadcast_to(np.arange(len(xs))[:, None, None], rows.shape)
    samples = scipy.ndimage.map_coordinates(
        images, [faces.ravel(), rows.ravel(), cols.ravel()], order=1
    )
    return samples.reshape(rows.shape).mean(axis=0)


def estimate_mirror(
    images: np.ndarray, keypoints: np.ndarray, max_faces: int
) -> tuple[float, dict[str, float]]:
    """Estimate ``mirror`` from labelled faces: the value that makes left features mirror right ones.

    For each flip pair, the mean patch around the right keypoint is compared with the mirrored mean
    patch around the left keypoint shifted by ``mirror - 95``; the best of 93..99 in steps of 0.25
    wins. Labels putting a pixel's centre at x + 0.5 (and symmetric annotators) give 96.

    Args:
        images: uint8 faces (N, 96, 96).
        keypoints: their keypoints (N, 30), NaN where missing.
        max_faces: how many of the first faces to look at.

    Returns:
        The median estimate over the flip pairs, and each pair's estimate by its name (the left
        column's without ``left_``).
    """
    candidates = np.arange(93.0, 99.01, 0.25)
    dx = np.arange(-8.0, 9.0)
    pixels, points = images[:max_faces].astype(np.float32), keypoints[:max_faces]
    per_pair = {}
    for left, right in FLIP_PAIRS:
        lx, ly, rx, ry = (
            points[:, COLUMN_INDEX[f"{kp}_{axis}"]] for kp in (left, right) for axis in "xy"
        )
        both = ~np.isnan(lx + ly + rx + ry)
        if both.sum() < _MIN_FACES:
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
