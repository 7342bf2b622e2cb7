"""Wiring of the reporting pipeline: out-of-fold metrics and plots."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    compute_metrics,
    format_metrics,
    plot_fold_rmse,
    plot_keypoint_rmse,
    plot_loss_curves,
    plot_oof_faces,
    plot_test_faces,
    tracked_metrics,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Out-of-fold predictions -> metrics.json, its table and the plots in data/08_reporting; its
    numbers to MLflow."""
    return Pipeline(
        [
            Node(
                compute_metrics,
                [
                    "training_clean",
                    "oof_predictions",
                    "oof_combination",
                    "combination",
                    "training_summaries",
                    "test_fold_predictions",
                    "fold_grouping",
                ],
                "metrics",
                name="compute_metrics",
            ),
            Node(format_metrics, "metrics", "metrics_table", name="format_metrics"),
            Node(tracked_metrics, "metrics", "tracked_metrics", name="tracked_metrics"),
            Node(
                plot_loss_curves, "training_summaries", "loss_curves_plot", name="plot_loss_curves"
            ),
            Node(plot_keypoint_rmse, "metrics", "keypoint_rmse_plot", name="plot_keypoint_rmse"),
            Node(plot_fold_rmse, "metrics", "fold_rmse_plot", name="plot_fold_rmse"),
            Node(
                plot_oof_faces,
                ["training_clean", "oof_combination", "metrics"],
                "oof_faces_plot",
                name="plot_oof_faces",
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
