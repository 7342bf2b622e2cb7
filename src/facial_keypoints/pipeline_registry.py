"""Project pipelines."""

from __future__ import annotations

from kedro.pipeline import Pipeline

from facial_keypoints.pipelines import data_engineering, modelling, reporting, submission


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    ``submission`` runs everything a submission needs (parse, train, report, predict, write); ``predict``
    only predicts and writes, re-using the models already trained; ``__default__`` is ``submission``.
    """
    pipelines = {
        "data_engineering": data_engineering.create_pipeline(),
        "modelling": modelling.create_pipeline(),
        "reporting": reporting.create_pipeline(),
        "predict": submission.create_pipeline(),
    }
    pipelines["submission"] = sum(pipelines.values(), Pipeline([]))
    pipelines["__default__"] = pipelines["submission"]
    return pipelines
