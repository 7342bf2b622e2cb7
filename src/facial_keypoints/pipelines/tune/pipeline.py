"""Wiring of the tune pipeline: this worker's trials of the study, then the best values and plots."""

from kedro.pipeline import Node, Pipeline

from .nodes import best_parameters, plot_history, plot_importances, study_runner


def create_pipeline(*, folds: int, trial: Pipeline, **kwargs) -> Pipeline:
    """Trials of ``trial`` (the modelling pipeline, ``folds`` fold namespaces) in a shared study."""
    return Pipeline(
        [
            Node(
                study_runner(trial, folds),
                ["training_clean", "folds", "flip_convention", "parameters", "params:tune"],
                ["tune_study", "tune_trials"],
                name="run_study",
            ),
            Node(best_parameters, "tune_study", "best_params", name="best_parameters"),
            Node(plot_history, "tune_study", "tune_history_plot", name="plot_history"),
            Node(plot_importances, "tune_study", "tune_importance_plot", name="plot_importances"),
        ],
        tags="tune",
    )
