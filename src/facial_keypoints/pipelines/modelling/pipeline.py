"""Wiring of the modelling pipeline: one namespace per fold (full model, a namespace per specialist,
out-of-fold predictions), then the combination fitted on all folds' out-of-fold predictions."""

from kedro.pipeline import Node, Pipeline

from facial_keypoints.domain.keypoints import SPECIALIST_GROUPS
from facial_keypoints.pipelines.catalog_names import (
    MODEL_INPUTS,
    SUMMARY_INPUTS,
    fold_namespace,
    fold_output,
    per_fold,
    specialist_dataset,
    specialist_summary_dataset,
)

from .nodes import (
    collect,
    fit_combination,
    fold_splitter,
    full_model_trainer,
    gather_out_of_fold,
    oof_predictor,
    specialist_trainer,
)

_FOLD_INPUTS = {"training_clean", "folds", "flip_convention"}
_FOLD_OUTPUTS = ("validation_predictions", "training_summaries")
_PARAMETERS = {
    "params:cv",
    "params:full_model",
    "params:architectures",
    "params:specialists",
    "params:training",
    "params:combination",
}


def specialist(fold: int, group: str) -> Pipeline:
    """One specialist as the namespace ``group`` (inside its fold's): fine-tune the full model."""
    template = Pipeline(
        [
            Node(
                specialist_trainer(fold, group),
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
        inputs={"full_model", "train_faces", "validation_faces", "flip_convention"},
        outputs={
            "model": specialist_dataset(group),
            "training_summary": specialist_summary_dataset(group),
        },
        parameters={"params:specialists", "params:training"},
        tags="specialist",
    )


def fold(k: int) -> Pipeline:
    """Fold ``k`` as the namespace ``fold_<k>``: its split, models and out-of-fold predictions."""
    template = Pipeline(
        [
            Node(
                fold_splitter(k),
                ["training_clean", "folds", "params:cv"],
                ["train_faces", "validation_faces"],
                name="split_fold",
            ),
            Node(
                full_model_trainer(k),
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
            ),
            *(specialist(k, group) for group in SPECIALIST_GROUPS),
            Node(
                oof_predictor(k),
                {
                    "train": "train_faces",
                    "validation": "validation_faces",
                    "flip_convention": "flip_convention",
                    "combination": "params:combination",
                    "specialists": "params:specialists",
                    **MODEL_INPUTS,
                },
                "validation_predictions",
                name="predict_out_of_fold",
            ),
            Node(collect, SUMMARY_INPUTS, "training_summaries", name="collect_summaries"),
        ]
    )
    return Pipeline(
        template,
        namespace=fold_namespace(k),
        inputs=_FOLD_INPUTS,
        outputs={name: fold_output(k, name) for name in _FOLD_OUTPUTS},
        parameters=_PARAMETERS,
        tags="training",
    )


def create_pipeline(*, folds: int, **kwargs) -> Pipeline:
    """``folds`` fold namespaces, then the combination fitted on their out-of-fold predictions."""
    combine = Pipeline(
        [
            Node(
                gather_out_of_fold,
                per_fold("validation_predictions", folds),
                "oof_predictions",
                name="gather_out_of_fold",
            ),
            Node(
                collect,
                per_fold("training_summaries", folds),
                "training_summaries",
                name="gather_training_summaries",
            ),
            Node(
                fit_combination,
                ["oof_predictions", "training_clean", "folds", "params:combination", "params:cv"],
                ["combination", "oof_combination"],
                name="fit_combination",
            ),
        ],
        tags="training",
    )
    return sum((fold(k) for k in range(folds)), Pipeline([])) + combine
