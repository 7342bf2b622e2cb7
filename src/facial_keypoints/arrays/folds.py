"""Cross-validation folds: faces grouped (near-duplicate images, and the people of ``cv.groups``),
folds stratified by completeness.

Kaggle's training set repeats some images, and ytf96's are video frames: a face whose near-copy, or
another frame of the same person, trains the model that predicts it makes the out-of-fold figure
describe faces the model has half seen. Such faces always share a fold. The splitters are
scikit-learn's.
"""

from __future__ import annotations

import numpy as np
import scipy  # its submodules load on first use

from facial_keypoints.domain.errors import InputDataError
from facial_keypoints.domain.keypoints import IMAGE_SIZE

#: Images are compared as means of POOL x POOL pixel blocks: insensitive to re-encoding noise and a
#: single changed pixel, and 16 times fewer values to compare.
POOL = 4

# scikit-learn is imported inside the functions that use it, not when Kedro loads the pipelines
# (`kedro` commands start fast): _no_sklearn_at_import.

#: ``fold`` of a face that only ever trains (``cv.folds`` = 1: the faces outside the holdout).
TRAIN_ONLY = -1


def near_duplicate_groups(images: np.ndarray, threshold: float) -> np.ndarray:
    """A group number per face: faces whose pooled images differ by at most ``threshold`` grey levels
    (root mean square over the pooled pixels) share a group, and so do chains of them."""
    from sklearn.neighbors import NearestNeighbors  # noqa: PLC0415 - see _no_sklearn_at_import

    count, side = len(images), IMAGE_SIZE // POOL
    pooled = (
        images.reshape(count, side, POOL, side, POOL).mean(axis=(2, 4), dtype=np.float32)
    ).reshape(count, -1)
    radius = threshold * np.sqrt(pooled.shape[1])  # an RMS difference, as a Euclidean distance
    graph = NearestNeighbors(radius=radius).fit(pooled).radius_neighbors_graph()
    return scipy.sparse.csgraph.connected_components(graph, directed=False)[1]


def merge_groups(*labels: np.ndarray) -> np.ndarray:
    """One group number (0..G-1) per face, faces sharing a label of any of ``labels`` in one group
    (and chains of them): the connected components of the faces-to-labels graph."""
    count = len(labels[0])
    edges, offset = [], count
    for label in labels:
        codes = np.unique(label, return_inverse=True)[1].ravel()
        edges.append(codes + offset)
        offset += int(codes.max(initial=-1)) + 1
    graph = scipy.sparse.coo_matrix(
        (
            np.ones(count * len(labels)),
            (np.tile(np.arange(count), len(labels)), np.concatenate(edges)),
        ),
        shape=(offset, offset),
    )
    components = scipy.sparse.csgraph.connected_components(graph, directed=False)[1][:count]
    return np.unique(components, return_inverse=True)[1].ravel()


def largest_group_allowed(count: int, folds: int, validation_fraction: float) -> int:
    """The most faces one group may hold: a fold's share of them (the holdout's when ``folds`` = 1)."""
    share = validation_fraction if folds == 1 else 1 / folds
    return int(np.floor(count * share))


def assign_folds(
    complete: np.ndarray,
    groups: np.ndarray,
    folds: int,
    seed: int,
    validation_fraction: float,
) -> np.ndarray:
    """The fold (0..folds-1) whose validation set each face is in, stratified by completeness, no
    group split across folds. With ``folds`` = 1: one holdout of ``validation_fraction`` of the
    groups (fold 0), every other face ``TRAIN_ONLY``.

    Args:
        complete: 1 for a face with all 30 values, 0 otherwise (the strata), one per face.
        groups: a group id per face (:func:`near_duplicate_groups`); a group stays in one fold.
        folds: ``cv.folds``.
        seed: ``cv.seed``.
        validation_fraction: the share of groups held out when ``folds`` is 1.

    Returns:
        The fold of each face (int64), ``folds.csv``'s ``fold`` column.

    Raises:
        InputDataError: too few distinct faces for the folds asked for.
    """
    from sklearn import model_selection  # noqa: PLC0415 - see _no_sklearn_at_import

    unique, first = np.unique(groups, return_index=True)
    if len(unique) < max(folds, 2):
        raise InputDataError(
            f"cv.folds = {folds} needs at least {max(folds, 2)} distinct training faces, but the "
            f"{len(groups)} training face(s) form {len(unique)} group(s) that each stay in one fold "
            "(near-duplicates, and the groups of cv.groups). Use a training.csv with more faces, "
            "fewer cv.folds, a lower cv.duplicate_threshold or finer cv.groups."
        )
    fold = np.full(len(groups), TRAIN_ONLY, dtype=np.int64)
    if folds == 1:
        strata = complete[first]  # a group's stratum is its first face's: groups rarely mix
        stratify = strata if min(np.bincount(strata, minlength=2)) > 1 else None
        try:
            _, held_out = model_selection.train_test_split(
                unique, test_size=validation_fraction, random_state=seed, stratify=stratify
            )
        except ValueError as exc:  # a fraction that leaves one side empty
            raise InputDataError(
                f"Splitting {len(unique)} group(s) of training faces with cv.validation_fraction "
                f"{validation_fraction} leaves no training or no validation faces ({exc}). Use a "
                "training.csv with more faces, or another cv.validation_fraction."
            ) from None
        fold[np.isin(groups, held_out)] = 0
        return fold
    splitter = model_selection.StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (_, validation) in enumerate(splitter.split(np.zeros(len(groups)), complete, groups)):
        fold[validation] = k
    return fold


def folds_problem(given: dict[int, int], ids: np.ndarray, folds: int) -> str | None:
    """What keeps ``folds.csv`` (``given``: each row's fold) from serving the faces ``ids`` under
    ``cv.folds`` = ``folds``: a face without a fold, a fold out of range or with no face."""
    missing = [int(face) for face in ids if int(face) not in given]
    if missing:
        return f"gives no fold for row {missing[0]} of the training faces ({len(missing)} rows)"
    allowed = {TRAIN_ONLY, 0} if folds == 1 else set(range(folds))
    for row, value in given.items():
        if value not in allowed:
            return (
                f"puts row {row} in fold {value}, but cv.folds = {folds} allows {sorted(allowed)}"
            )
    used = {given[int(face)] for face in ids}
    empty = sorted(set(range(folds)) - used)
    if empty:
        return f"has no face in fold {empty[0]} (cv.folds = {folds})"
    return None
