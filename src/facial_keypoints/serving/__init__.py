"""The served model: a training run's whole fold ensemble as one MLflow model (kedro-mlflow).

:mod:`.training` pairs a training pipeline with the inference pipeline that serves what it trains
(kedro-mlflow's ``PipelineML``; cheap to import, the registry uses it); :mod:`.model` is the MLflow
model itself, logged and registered at the end of a tracked run (imports MLflow).
"""
