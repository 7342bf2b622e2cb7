"""Wiring of the predict pipeline: each fold's models predict the test faces (in the fold's
namespace), each fold's predictions are combined and the folds averaged, Kaggle's CSV is written
(and uploaded if asked). The served model runs the same nodes from a request's faces to their
keypoints (``create_serving_pipeline``)."""

from kedro.pipeline import Node, Pipeline

from facial_keypoints.pipelines.catalog_names import (
    MODEL_INPUTS,
    fold_namespace,
    fold_output,
    per_fold,
)

from .nodes import (
    average_folds,
    combine_folds,
    keypoints_table,
    make_submission,
    predict_test_views,
    read_request,
    upload_submission,
)

#: The served model's input (a table with an ``Image`` column) and output (30 keypoint columns).
SERVING_INPUT = "served_request"
SERVING_OUTPUT = "served_keypoints"


def fold(k: int, faces: str = "test_faces", views: str = "test_views") -> Pipeline:
    """Fold ``k``'s models on the dataset ``faces``, in the namespace ``fold_<k>``; their views
    are ``fold_<k>_<views>``."""
    template = Pipeline(
        [
            Node(
                predict_test_views,
                {
                    "test": "test_faces",
                    "flip_convention": "flip_convention",
                    "combination": "params:combination",
                    "specialists": "params:specialists",
                    **MODEL_INPUTS,
                },
                "test_views",
                name="predict_test",
            )
        ]
    )
    return Pipeline(
        template,
        namespace=fold_namespace(k),
        inputs={"test_faces": faces, "flip_convention": "flip_convention"},
        outputs={"test_views": fold_output(k, views)},
        parameters={"params:combination", "params:specialists"},
    )


def predicted(folds: int, faces: str, views: str, prefix: str = "") -> Pipeline:
    """Every fold's models on ``faces``, each fold's views combined, the folds averaged: the nodes
    ``predict`` and the served model share (``prefix`` names the served model's own)."""
    return Pipeline(
        [
            *(fold(k, faces, views) for k in range(folds)),
            Node(
                combine_folds,
                {"test": faces, "combination": "combination", **per_fold(views, folds)},
                f"{prefix}test_fold_predictions",
                name=f"{prefix}combine_folds",
            ),
            Node(
                average_folds,
                f"{prefix}test_fold_predictions",
                f"{prefix}test_predictions",
                name=f"{prefix}average_folds",
            ),
        ]
    )


def create_pipeline(*, folds: int, **kwargs) -> Pipeline:
    """Test faces -> every fold's predictions -> combined, averaged -> submission.csv (-> Kaggle)."""
    return Pipeline(
        [
            predicted(folds, "test_faces", "test_views"),
            Node(
                make_submission,
                ["test_predictions", "id_lookup"],
                "submission",
                name="make_submission",
            ),
            Node(
                upload_submission,
                ["submission", "combination", "params:kaggle"],
                None,
                name="upload_submission",
            ),
        ],
        tags="predict",
    )


def create_serving_pipeline(*, folds: int) -> Pipeline:
    """A request's faces -> every fold's predictions -> combined, averaged -> 30 keypoint columns:
    ``predict`` on other faces, the served model's inference pipeline (kedro-mlflow)."""
    return Pipeline(
        [
            Node(
                read_request, [SERVING_INPUT, "params:serving"], "served_faces", name="read_request"
            ),
            predicted(folds, "served_faces", "served_views", prefix="served_"),
            Node(
                keypoints_table, "served_test_predictions", SERVING_OUTPUT, name="keypoints_table"
            ),
        ]
    )
