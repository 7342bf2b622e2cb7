"""Wiring of the submission pipeline (predict the test faces, write Kaggle's CSV, upload if asked)."""

from kedro.pipeline import Node, Pipeline

from facial_keypoints.pipelines.shared import MODEL_INPUTS

from .nodes import make_submission, predict_test, upload_submission


def create_pipeline(**kwargs) -> Pipeline:
    """Test faces -> predictions of the final combination -> submission.csv (-> Kaggle)."""
    return Pipeline(
        [
            Node(
                predict_test,
                {
                    "test": "test_faces",
                    "combination": "combination",
                    "flip_convention": "flip_convention",
                    "combination_params": "params:combination",
                    **MODEL_INPUTS,
                },
                "test_predictions",
                name="predict_test",
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
