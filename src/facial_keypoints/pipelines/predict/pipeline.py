"""Wiring of the predict pipeline: each fold's models predict the test faces (in the fold's
namespace), the folds are averaged, Kaggle's CSV is written (and uploaded if asked)."""

from kedro.pipeline import Node, Pipeline

from facial_keypoints.pipelines.shared import MODEL_INPUTS, fold_namespace, per_fold

from .nodes import average_folds, make_submission, predict_fold, upload_submission


def fold(k: int) -> Pipeline:
    """Fold ``k``'s test predictions, in the namespace ``fold_<k>``."""
    template = Pipeline(
        [
            Node(
                predict_fold,
                {
                    "test": "test_faces",
                    "combination": "combination",
                    "flip_convention": "flip_convention",
                    "combination_params": "params:combination",
                    **MODEL_INPUTS,
                },
                "test_predictions",
                name="predict_test",
            )
        ]
    )
    return Pipeline(
        template,
        namespace=fold_namespace(k),
        inputs={"test_faces", "combination", "flip_convention"},
        parameters={"params:combination"},
    )


def create_pipeline(*, folds: int, **kwargs) -> Pipeline:
    """Test faces -> every fold's predictions -> their average -> submission.csv (-> Kaggle)."""
    return Pipeline(
        [
            *(fold(k) for k in range(folds)),
            Node(
                average_folds,
                {"test": "test_faces", **per_fold("test_predictions", folds)},
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
