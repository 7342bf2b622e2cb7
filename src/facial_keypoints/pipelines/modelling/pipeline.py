"""Wiring of the modelling pipeline: full model, one namespaced specialist block per group, combination."""

from kedro.pipeline import Node, Pipeline

from facial_keypoints.keypoints import SPECIALIST_GROUPS
from facial_keypoints.pipelines.shared import (
    MODEL_INPUTS,
    specialist_dataset,
    specialist_summary_dataset,
)

from .nodes import choose_combination, specialist_trainer, train_full_model

_SHARED_INPUTS = {"full_model", "train_faces", "validation_faces", "flip_convention"}
_SHARED_PARAMETERS = {"params:specialists", "params:training"}


def specialist(group: str) -> Pipeline:
    """One specialist as the namespace ``group``: fine-tune the full model on the group."""
    template = Pipeline(
        [
            Node(
                specialist_trainer(group),
                [
                    "full_model",
                    "train_faces",
                    "validation_faces",
                    "flip_convention",
                    "params:specialists",
                    "params:training",
                ],
                ["model", "training_summary"],
                name="train_specialist",
            )
        ]
    )
    return Pipeline(
        template,
        namespace=group,
        inputs=_SHARED_INPUTS,
        outputs={
            "model": specialist_dataset(group),
            "training_summary": specialist_summary_dataset(group),
        },
        parameters=_SHARED_PARAMETERS,
        tags=["training", "specialist"],
    )


def create_pipeline(**kwargs) -> Pipeline:
    """The full-data CNN, six specialists (one namespace each), and the per-keypoint combination."""
    full = Pipeline(
        [
            Node(
                train_full_model,
                [
                    "train_faces",
                    "validation_faces",
                    "flip_convention",
                    "params:full_model",
                    "params:architectures",
                    "params:training",
                ],
                ["full_model", "full_model_training_summary"],
                name="train_full_model",
            )
        ],
        tags="training",
    )
    combine = Pipeline(
        [
            Node(
                choose_combination,
                {
                    "validation": "validation_faces",
                    "flip_convention": "flip_convention",
                    "combination": "params:combination",
                    "specialists": "params:specialists",
                    **MODEL_INPUTS,
                },
                "combination",
                name="choose_combination",
            )
        ],
        tags="training",
    )
    return full + sum((specialist(group) for group in SPECIALIST_GROUPS), Pipeline([])) + combine
