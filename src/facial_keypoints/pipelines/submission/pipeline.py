"""Wiring of the submission pipeline (predict the test faces, write Kaggle's CSV)."""

from kedro.pipeline import Node, Pipeline

from facial_keypoints.pipelines.modelling.pipeline import models_node

from .nodes import make_submission, predict_test


def create_pipeline(**kwargs) -> Pipeline:
    """Test faces -> predictions of the final combination -> submission.csv."""
    return Pipeline(
        [
            models_node(
                predict_test,
                {
                    "test": "test_faces",
                    "combination": "combination",
                    "flip_convention": "flip_convention",
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
        ]
    )
