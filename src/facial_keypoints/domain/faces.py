"""Faces as they travel between nodes, and Kaggle's metric on them.

A set of faces is a dict of arrays: ``images`` uint8 (N, 96, 96), ``keypoints`` float32 (N, 30) in
Kaggle's column order with NaN where missing, ``mask`` uint8 (N, 30) with 1 where a value is present,
and ``ids`` int64 (N,) (the training row number from 1, or the test ImageId).
"""

from __future__ import annotations

import numpy as np

Faces = dict[str, np.ndarray]


def subset(faces: Faces, rows: np.ndarray) -> Faces:
    """The faces at the given row indices (or boolean selector), every array alike."""
    return {key: value[rows] for key, value in faces.items()}


def by_ids(faces: Faces, ids: np.ndarray) -> Faces:
    """The faces with the given ids, in that order (e.g. the truth of out-of-fold predictions)."""
    row = {int(face_id): i for i, face_id in enumerate(faces["ids"])}
    return subset(faces, np.array([row[int(face_id)] for face_id in ids]))


def concatenate(parts: list[Faces]) -> Faces:
    """Stack several sets of faces into one."""
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def rmse(predicted: np.ndarray, keypoints: np.ndarray) -> float:
    """Kaggle's metric: RMSE in pixels over the present (non-NaN) values."""
    present = ~np.isnan(keypoints)
    return float(np.sqrt(np.mean((predicted[present] - keypoints[present]) ** 2)))
