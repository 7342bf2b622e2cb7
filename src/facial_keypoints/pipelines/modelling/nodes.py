"""Nodes of the modelling pipeline: the full-data CNN, per-feature specialists, and their combination.

Each node calls the Keras library (:mod:`facial_keypoints.nn`), which is imported when a node runs,
not when Kedro builds the pipeline, so that commands running no model start fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from facial_keypoints import nn
from facial_keypoints.faces import Faces
from facial_keypoints.keypoints import SPECIALIST_GROUPS, columns_of
from facial_keypoints.nn import KerasModel
from facial_keypoints.params import (
    ArchitecturesParams,
    CombinationParams,
    FullModelParams,
    SpecialistsParams,
    TrainingParams,
)


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
    )


def specialist_trainer(group: str) -> Callable[..., tuple[KerasModel, dict[str, Any]]]:
    """The node function of ``group``'s specialist (Kedro calls a node with its datasets only)."""

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
        )
        return model, {**summary, "enabled": True}

    train_specialist.__name__ = train_specialist.__qualname__ = f"train_{group}_specialist"
    return train_specialist


def choose_combination(
    validation: Faces,
    flip_convention: dict[str, Any],
    combination: CombinationParams,
    specialists: SpecialistsParams,
    full_model: KerasModel,
    **models: KerasModel,
) -> dict[str, Any]:
    """Per keypoint column, pick full model, specialist or average by validation RMSE; same for flip TTA."""
    enabled = {group: models[group] for group in specialists.enabled}
    return nn.inference.choose_combination(
        validation,
        full_model,
        enabled,
        flip_convention["mirror"],
        combination.flip_tta,
        combination.prediction_batch_size,
    )
