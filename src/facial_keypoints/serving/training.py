"""A training pipeline paired with the inference pipeline that serves what it trains."""

from __future__ import annotations

from kedro.pipeline import Pipeline
from kedro_mlflow.pipeline.pipeline_ml import KedroMlflowPipelineMLError, PipelineML

#: Where in the MLflow run the served model is logged.
MODEL_FOLDER = "served_model"


class ServedTraining(PipelineML):
    """kedro-mlflow's ``PipelineML``, except that a part of it that no longer trains what the
    inference pipeline reads is a plain ``Pipeline``.

    kedro-mlflow checks that every input of the inference pipeline comes out of (or goes into) the
    training pipeline, also after ``kedro run --to-nodes``/``--from-nodes``/``--tags`` filtered it,
    and raises otherwise: ``kedro run --to-nodes fold_0.split_fold`` would fail before any node ran.
    Such a run trains nothing to serve, so it runs as a plain pipeline and logs no model.
    """

    def _turn_pipeline_to_ml(self, pipeline: Pipeline) -> Pipeline:
        """The filtered pipeline, still paired if it trains something the inference reads."""
        trains = (self.inference.inputs() - {self.input_name}) & pipeline.all_outputs()
        if not trains:
            return Pipeline(pipeline.nodes)
        try:
            return served(pipeline, self.inference, self.input_name)
        except KedroMlflowPipelineMLError:  # it trains some of it, but reads the rest from nowhere
            return Pipeline(pipeline.nodes)


def served(training: Pipeline, inference: Pipeline, input_name: str) -> ServedTraining:
    """``training``, whose tracked runs log ``inference`` with their artefacts as one MLflow model:
    what kedro-mlflow's ``pipeline_ml_factory`` builds, as a :class:`ServedTraining`."""
    return ServedTraining(
        nodes=training.nodes,
        inference=inference,
        input_name=input_name,
        log_model_kwargs={"name": MODEL_FOLDER},
    )
