"""Nodes of the modelling pipeline: per fold, the full-data CNN, the per-feature specialists and
their out-of-fold predictions; then the combination, fitted on every fold's out-of-fold predictions.

Each node calls the Keras library (:mod:`facial_keypoints.nn`), which is imported when a node runs,
not when Kedro builds the pipeline, so that commands running no model start fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lazy_loader
import numpy as np

from facial_keypoints import nn
from facial_keypoints.arrays import stacking
from facial_keypoints.arrays.folds import folds_problem
from facial_keypoints.domain.errors import InputDataError
from facial_keypoints.domain.faces import Faces, by_ids, subset
from facial_keypoints.domain.keypoints import SPECIALIST_GROUPS, columns_of
from facial_keypoints.domain.params import (
    ArchitecturesParams,
    CombinationParams,
    CVParams,
    FullModelParams,
    SpecialistsParams,
    TrainingParams,
)
from facial_keypoints.nn import KerasModel
from facial_keypoints.pipelines.catalog_names import fold_namespace

# pandas is imported on first use, not when Kedro loads the pipelines: `kedro` commands start fast.
pd = lazy_loader.load("pandas")


def _named(function: Callable[..., Any], name: str) -> Callable[..., Any]:
    function.__name__ = function.__qualname__ = name
    return function


def fold_splitter(fold: int) -> Callable[[Faces, pd.DataFrame, CVParams], tuple[Faces, Faces]]:
    """The node function that splits off fold ``fold``'s training and validation faces."""

    def split_fold(faces: Faces, folds: pd.DataFrame, cv: CVParams) -> tuple[Faces, Faces]:
        """The faces outside the fold train; the fold's own faces validate (out of fold)."""
        fold_of = dict(zip(folds["row"].tolist(), folds["fold"].tolist(), strict=True))
        problem = folds_problem(fold_of, faces["ids"], cv.folds)
        if problem is not None:
            raise InputDataError(
                f"folds.csv (in 05_model_input) {problem}. Write it again for these faces and "
                "cv.folds with `kedro run --pipelines data_engineering` (and the same --params)."
            )
        in_fold = np.array([fold_of[int(row)] == fold for row in faces["ids"]])
        return subset(faces, ~in_fold), subset(faces, in_fold)

    return _named(split_fold, f"split_fold_{fold}")


def full_model_trainer(fold: int) -> Callable[..., tuple[KerasModel, dict[str, Any]]]:
    """The node function that trains fold ``fold``'s full model (checkpoints apart per fold)."""

    def train_full_model(
        train: Faces,
        validation: Faces,
        flip_convention: dict[str, Any],
        full_model: FullModelParams,
        architectures: ArchitecturesParams,
        training: TrainingParams,
    ) -> tuple[KerasModel, dict[str, Any]]:
        """Train the full-data CNN on all 30 coordinates with the masked loss."""
        return nn.training.train_full_model(
            train,
            validation,
            flip_convention["mirror"],
            full_model,
            architectures.options(full_model.architecture),
            training,
            f"{fold_namespace(fold)}/full_model",
        )

    return _named(train_full_model, f"train_full_model_{fold}")


def specialist_trainer(fold: int, group: str) -> Callable[..., tuple[KerasModel, dict[str, Any]]]:
    """The node function of ``group``'s specialist in fold ``fold``."""

    def train_specialist(
        full_model: KerasModel,
        train: Faces,
        validation: Faces,
        flip_convention: dict[str, Any],
        specialists: SpecialistsParams,
        training: TrainingParams,
    ) -> tuple[KerasModel, dict[str, Any]]:
        """Fine-tune a copy of the full model on the group, or keep the copy as is if not enabled."""
        if group not in specialists.enabled:
            copy = nn.specialists.specialist_from(
                full_model, columns_of(SPECIALIST_GROUPS[group]), group
            )
            return copy, {**nn.training.summary({}, 0), "enabled": False}
        model, summary = nn.training.train_specialist(
            full_model,
            group,
            train,
            validation,
            flip_convention["mirror"],
            specialists.for_group(group),
            training,
            f"{fold_namespace(fold)}/{group}",
        )
        return model, {**summary, "enabled": True}

    return _named(train_specialist, f"train_{group}_specialist_{fold}")


def oof_predictor(fold: int) -> Callable[..., dict[str, np.ndarray]]:
    """The node function that predicts fold ``fold``'s validation faces with the fold's models."""

    def predict_out_of_fold(
        train: Faces,
        validation: Faces,
        flip_convention: dict[str, Any],
        combination: CombinationParams,
        specialists: SpecialistsParams,
        full_model: KerasModel,
        **models: KerasModel,
    ) -> dict[str, np.ndarray]:
        """Every view of the fold's models and model 0 (the training mean) on its validation faces."""
        views = nn.inference.predict_fold_views(
            full_model,
            models,
            specialists.enabled,
            validation["images"],
            flip_convention["mirror"],
            combination,
        )
        count = len(validation["ids"])
        mean = np.nanmean(train["keypoints"], axis=0)
        return {
            "ids": validation["ids"],
            "fold": np.full(count, fold),
            "mean_baseline": np.tile(mean, (count, 1)).astype(np.float32),
            **views,
        }

    return _named(predict_out_of_fold, f"predict_out_of_fold_{fold}")


def collect(**parts: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Several inputs as one dict, by keyword (a fold's training summaries, or every fold's)."""
    return parts


def gather_out_of_fold(**folds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every fold's out-of-fold predictions in one file, in training-row order."""
    gathered = {
        key: np.concatenate([part[key] for part in folds.values()]) for key in folds["fold_0"]
    }
    return subset(gathered, np.argsort(gathered["ids"], kind="stable"))


def fit_combination(
    oof_predictions: dict[str, np.ndarray],
    faces: Faces,
    folds: pd.DataFrame,
    combination: CombinationParams,
    cv: CVParams,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Per coordinate, the weights of the models' views that fit the out-of-fold faces best; and
    the final predictions of those faces by weights fitted on other groups' faces (cross-fitted)."""
    truth = by_ids(faces, oof_predictions["ids"])["keypoints"]
    groups = folds.set_index("row")["group"].loc[oof_predictions["ids"]].to_numpy()
    views = stacking.views_of(oof_predictions)
    fitted, cross_fitted = stacking.fit_combination(
        views, truth, combination.flip_tta, cv.seed, groups
    )
    specialists = sorted(
        {name.removeprefix("specialist_").removesuffix(stacking.MIRRORED) for name in views}
        - {stacking.FULL_MODEL}
    )
    count = int(oof_predictions["fold"].max()) + 1
    return {**fitted, "specialists": specialists, "folds": count}, {
        "ids": oof_predictions["ids"],
        "final_combination": cross_fitted,
    }
