"""Wiring of the predict pipeline: each fold's models predict the test faces (in the fold's
namespace), each fold's predictions are combined and the folds averaged, Kaggle's CSV is written
(and uploaded if asked)."""

from kedro.pipeline import Node, Pipeline

from facial_keypoints.pipelines.catalog_names import (
    MODEL_INPUTS,
    fold_namespace,
    fold_output,
    per_fold,
)

from .nodes import average_folds, make_submission, predict_test_views, upload_submission


def fold(k: int) -> Pipeline:
    """Fold ``k``'s models on the test faces, in the namespace ``fold_<k>``."""
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
        inputs={"test_faces", "flip_convention"},
        outputs={"test_views": fold_output(k, "test_views")},
        parameters={"params:combination", "params:specialists"},
    )


def create_pipeline(*, folds: int, **kwargs) -> Pipeline:
    """Test faces -> every fold's predictions -> combined, averaged -> submission.csv (-> Kaggle)."""
    return Pipeline(
        [
            *(fold(k) for k in range(folds)),
            Node(
                average_folds,
                {
                    "test": "test_faces",
                    "combination": "combination",
                    **per_fold("test_views", folds),
                },
                ["test_predictions", "test_fold_predictions"],
                name="average_folds",
            ),
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
