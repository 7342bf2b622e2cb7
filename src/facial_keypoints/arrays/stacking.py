"""Stacking the models' predictions, and what averaging fold models gains. NumPy and scikit-learn only.

A *view* is one model's predictions of all 30 coordinates, (N, 30), NaN where the model predicts
nothing (a specialist outside its group): ``full_model`` and ``specialist_<group>`` on the faces as
they are, and ``<name>_mirrored`` on the mirrored faces, mirrored back. A *combination*
(``combination.json``) gives each coordinate non-negative weights over the views, fitted by least
squares on out-of-fold predictions: it picks the specialist, the full model, flip test-time
augmentation or any blend of them, and it is applied the same way to every set of faces. Its own
score is cross-fitted (weights fitted on half the faces score the other half), since weights
scored on the faces they were fitted on look better than they are.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from facial_keypoints.domain.faces import rmse
from facial_keypoints.domain.keypoints import COLUMNS

logger = logging.getLogger(__name__)

MIRRORED = "_mirrored"
FULL_MODEL = "full_model"

#: Arrays of a predictions file (``oof_predictions.npz``) besides the views: training row ids, the
#: fold that predicted each face, and model 0 (each column's mean over the fold's training faces).
NOT_VIEWS = ("ids", "fold", "mean_baseline")


def specialist_view(group: str) -> str:
    """The view name of a specialist's predictions."""
    return f"specialist_{group}"


def views_of(predictions: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The views among a predictions file's arrays."""
    return {key: value for key, value in predictions.items() if key not in NOT_VIEWS}


def prepare_views(views: dict[str, np.ndarray], flip_tta: bool | str) -> dict[str, np.ndarray]:
    """The views a combination may weigh: without mirrored ones (``flip_tta`` false), each averaged
    with its mirrored one (true: classic flip TTA), or all of them apart (``auto``)."""
    plain = {name: value for name, value in views.items() if not name.endswith(MIRRORED)}
    if flip_tta == "auto":
        return dict(views)
    if not flip_tta:
        return plain
    return {name: (value + views[name + MIRRORED]) / 2 for name, value in plain.items()}


def unfitted(views: dict[str, np.ndarray], flip_tta: bool | str) -> np.ndarray:
    """Per coordinate, the plain mean of the views that predict it (flip TTA as ``flip_tta``, ``auto``
    as true): what a combination gives before it is fitted, for scoring one fold on its own."""
    prepared = prepare_views(views, flip_tta is not False)
    return np.nanmean(np.stack(list(prepared.values())), axis=0)


def fit_weights(
    views: dict[str, np.ndarray], truth: np.ndarray, flip_tta: bool | str
) -> dict[str, dict[str, float]]:
    """Per coordinate, the non-negative weights of the views that predict it which minimise the
    squared error on the faces labelled for it (no intercept: the weights of unbiased models sum to
    about 1 by themselves)."""
    from sklearn.linear_model import LinearRegression  # noqa: PLC0415 - only when fitting

    candidates = prepare_views(views, flip_tta)
    weights = {}
    for c, column in enumerate(COLUMNS):
        names = [name for name, value in candidates.items() if not np.isnan(value[:, c]).all()]
        labelled = ~np.isnan(truth[:, c])
        fitted = {}
        if labelled.any():
            inputs = np.stack([candidates[name][labelled, c] for name in names], axis=1)
            model = LinearRegression(fit_intercept=False, positive=True)
            coefficients = model.fit(inputs, truth[labelled, c]).coef_
            fitted = {
                name: round(float(w), 6)
                for name, w in zip(names, coefficients, strict=True)
                if w > 0
            }
        weights[column] = fitted or {FULL_MODEL: 1.0}  # nothing to fit on: the full model alone
    return weights


def cross_fit(
    views: dict[str, np.ndarray],
    truth: np.ndarray,
    flip_tta: bool | str,
    seed: int,
    groups: np.ndarray,
) -> np.ndarray:
    """Final predictions of every face by weights fitted on the other half of the groups (split at
    random from ``seed``; a group, e.g. a person, all in one half): what the combination scores on
    faces of groups it was not fitted on."""
    unique = np.unique(groups)
    chosen = np.random.default_rng(seed).permutation(len(unique)) < len(unique) // 2
    half = np.isin(groups, unique[chosen])
    combined = np.empty_like(truth)
    for fit_on in (half, ~half):
        weights = fit_weights({k: v[fit_on] for k, v in views.items()}, truth[fit_on], flip_tta)
        scored = {k: v[~fit_on] for k, v in views.items()}
        combined[~fit_on] = combine(scored, {"flip_tta": flip_tta, "weights": weights})
    return combined


def fit_combination(
    views: dict[str, np.ndarray],
    truth: np.ndarray,
    flip_tta: bool | str,
    seed: int,
    groups: np.ndarray,
) -> tuple[dict[str, Any], np.ndarray]:
    """The combination fitted on all the faces, and the cross-fitted final predictions
    (:func:`cross_fit`) that score it honestly.

    Args:
        views: every model's out-of-fold predictions, ``{view name: (N, 30)}``, NaN where a view
            predicts nothing.
        truth: the faces' keypoints (N, 30), NaN where missing.
        flip_tta: ``combination.flip_tta``: how mirrored views take part (:func:`prepare_views`).
        seed: splits the groups into the two halves of the cross-fit.
        groups: each face's group (folds.csv's ``group``): the cross-fit never splits one.

    Returns:
        ``combination.json``'s content (``flip_tta``, ``weights`` per column and view, and the
        cross-fitted, in-sample and full-model-only RMSE) and the cross-fitted predictions (N, 30).
    """
    combination = {"flip_tta": flip_tta, "weights": fit_weights(views, truth, flip_tta)}
    cross_fitted = cross_fit(views, truth, flip_tta, seed, groups)
    combination["oof_rmse"] = rmse(cross_fitted, truth)
    combination["oof_rmse_in_sample"] = rmse(combine(views, combination), truth)
    combination["oof_rmse_full_model"] = rmse(views[FULL_MODEL], truth)
    logger.info(
        "Combination fitted on %d out-of-fold faces: RMSE %.4f cross-fitted, %.4f on the faces it "
        "was fitted on (full model alone %.4f)",
        len(truth),
        combination["oof_rmse"],
        combination["oof_rmse_in_sample"],
        combination["oof_rmse_full_model"],
    )
    return combination, cross_fitted


def combine(views: dict[str, np.ndarray], combination: dict[str, Any]) -> np.ndarray:
    """The final (N, 30) predictions: each coordinate's weighted sum of the views.

    Args:
        views: predictions of the same N faces by the views ``combination`` names (and, with flip
            TTA, their mirrored views).
        combination: a fitted combination (:func:`fit_combination`, ``combination.json``).
    """
    prepared = prepare_views(views, combination["flip_tta"])
    combined = np.zeros_like(prepared[FULL_MODEL])
    for c, column in enumerate(COLUMNS):
        for name, weight in combination["weights"][column].items():
            combined[:, c] += weight * prepared[name][:, c]
    return combined


def views_needed(combination: dict[str, Any]) -> set[str]:
    """The (unprepared) views that applying ``combination`` reads."""
    names = {name for weights in combination["weights"].values() for name in weights}
    if combination["flip_tta"] is True:
        names |= {name + MIRRORED for name in names}
    return names


def ambiguity(fold_predictions: np.ndarray) -> float:
    """Mean squared spread of the fold models' predictions (K, N, 30) around their average.

    Squared error splits exactly: the average's error = the members' mean error - this spread
    (Krogh and Vedelsby's ambiguity decomposition), so the spread on unlabelled test faces, with
    the members' out-of-fold error, estimates what averaging the folds gains.
    """
    return float(np.mean((fold_predictions - fold_predictions.mean(axis=0)) ** 2))
