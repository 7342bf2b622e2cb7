"""Wiring of the reporting pipeline: validation metrics and plots."""

from kedro.pipeline import Node, Pipeline

from facial_keypoints.pipelines.shared import MODEL_INPUTS, SUMMARY_INPUTS

from .nodes import (
    compute_metrics,
    plot_keypoint_rmse,
    plot_loss_curves,
    plot_test_faces,
    plot_validation_faces,
    predict_validation,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Validation predictions -> metrics.json and the plots in data/08_reporting."""
    return Pipeline(
        [
            Node(
                predict_validation,
                {
                    "validation": "validation_faces",
                    "combination": "combination",
                    "flip_convention": "flip_convention",
                    "combination_params": "params:combination",
                    **MODEL_INPUTS,
                },
                "validation_predictions",
                name="predict_validation",
            ),
            Node(
                compute_metrics,
                {
                    "train": "train_faces",
                    "validation": "validation_faces",
                    "predictions": "validation_predictions",
                    **SUMMARY_INPUTS,
                },
                "metrics",
                name="compute_metrics",
            ),
            Node(plot_loss_curves, SUMMARY_INPUTS, "loss_curves_plot", name="plot_loss_curves"),
            Node(plot_keypoint_rmse, "metrics", "keypoint_rmse_plot", name="plot_keypoint_rmse"),
            Node(
                plot_validation_faces,
                ["validation_faces", "validation_predictions", "metrics"],
                "validation_faces_plot",
                name="plot_validation_faces",
            ),
            Node(
                plot_test_faces,
                ["test_faces", "test_predictions"],
                "test_faces_plot",
                name="plot_test_faces",
            ),
        ],
        tags="report",
    )
