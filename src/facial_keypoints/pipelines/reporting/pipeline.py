"""Wiring of the reporting pipeline: validation metrics and plots."""

from kedro.pipeline import Node, Pipeline

from facial_keypoints.pipelines.modelling.pipeline import (
    models_node,
    node_with_specialists,
    specialist_inputs,
)

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
    summaries = {"full_model_summary": "full_model_training_summary",
                 **specialist_inputs("training_summary")}
    return Pipeline(
        [
            models_node(
                predict_validation,
                {"validation": "validation_faces", "combination": "combination",
                 "flip_convention": "flip_convention"},
                "validation_predictions",
                name="predict_validation",
            ),
            node_with_specialists(
                compute_metrics,
                {"train": "train_faces", "validation": "validation_faces",
                 "predictions": "validation_predictions", **summaries},
                "metrics",
                name="compute_metrics",
            ),
            node_with_specialists(plot_loss_curves, summaries, "loss_curves_plot",
                                  name="plot_loss_curves"),
            Node(plot_keypoint_rmse, "metrics", "keypoint_rmse_plot", name="plot_keypoint_rmse"),
            Node(plot_validation_faces, ["validation_faces", "validation_predictions", "metrics"],
                 "validation_faces_plot", name="plot_validation_faces"),
            Node(plot_test_faces, ["test_faces", "test_predictions"], "test_faces_plot",
                 name="plot_test_faces"),
        ]
    )
