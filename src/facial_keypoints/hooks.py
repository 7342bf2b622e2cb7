"""Project hooks: parameters checked before anything runs, demo files generated when missing, every
run recorded in MLflow, and what a user needs to read at the end of a run."""

from __future__ import annotations

import atexit
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import click
import mlflow
from kedro.config import MissingConfigException
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.io import AbstractVersionedDataset, DataCatalog
from kedro.pipeline import Pipeline
from kedro.pipeline.node import Node
from kedro_mlflow.framework.hooks import MlflowHook
from mlflow.entities import Metric, RunStatus

from facial_keypoints import kaggle_api, nn, tracking
from facial_keypoints.errors import find_input_error, first_line
from facial_keypoints.params import Params, check_parameters
from facial_keypoints.pipeline_registry import use_folds
from facial_keypoints.pipelines.reporting.nodes import format_metrics

logger = logging.getLogger(__name__)


class ParameterCheckHook:
    """Every parameter block checked as soon as the configuration is loaded, before any node runs;
    with ``kaggle.submit`` on, the kaggle package and credentials too (not after a whole run)."""

    def __init__(self) -> None:
        """No parameters until a context is created."""
        self.parameters: dict[str, Params] = {}

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        """Raise one clear error for the first parameter that is not allowed; shape the pipelines."""
        params = self.parameters = check_parameters(context.config_loader["parameters"])
        use_folds(params["cv"].folds)
        if params["kaggle"].submit:
            try:
                kaggle_api.check_ready()
            except kaggle_api.KaggleUnavailable as exc:
                raise kaggle_api.KaggleUnavailable(
                    f"kaggle.submit is true, but {exc} Or run without --params kaggle.submit=true."
                ) from None


class DemoDataHook:
    """In an environment with a ``demo`` config (``conf/demo/demo.yml``), generate Kaggle-format
    demo files into its ``folder`` before a run when they are missing, so no download is needed."""

    def __init__(self) -> None:
        """No demo settings until a context is created."""
        self._settings: dict[str, Any] | None = None

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        """Remember the environment's demo settings, if it has any."""
        try:
            self._settings = dict(context.config_loader["demo"])
        except MissingConfigException:
            self._settings = None

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        """Write the demo files if the raw folder lacks training data."""
        if not self._settings:
            return
        settings = dict(self._settings)
        folder = Path(settings.pop("folder"))
        if not any((folder / name).is_file() for name in ("training.csv", "training.zip")):
            from facial_keypoints.data.synthetic import write_demo_files  # noqa: PLC0415 - demo only

            logger.info("Generating demo data in %s", folder)
            write_demo_files(folder, **settings)


class StaleSubmissionHook:
    """Before a run that writes the submission, move the previous CSV aside: if the run then fails
    or is killed, no ``submission.csv`` is left that could be uploaded for test files it was not
    made for. A successful run writes a new one."""

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        """Rename submission.csv to submission.previous.csv."""
        if "submission" not in pipeline.all_outputs():
            return
        path = catalog.get("submission").filepath
        if path.is_file():
            previous = path.with_name(f"{path.stem}.previous{path.suffix}")
            path.replace(previous)
            logger.info(
                "Moved the previous submission to %s until this run writes a new one",
                os.path.relpath(previous),
            )


class TrackingHook(MlflowHook):
    """kedro-mlflow's hook (one MLflow run per ``kedro run``, ended FAILED by an error), recording
    what comparing runs needs, without anything in the nodes:

    - parameters: every parameter of the run flattened (``full_model.optimizer.learning_rate``),
      ``run.env`` and ``run.pipelines``; once a model has run, ``run.keras_backend`` and
      ``run.device``;
    - metrics: the numbers of a dataset saved with catalog metadata ``mlflow: {metrics: <prefix>}``
      (metrics.json), the per-epoch RMSE of one with ``mlflow: {history: <prefix>}`` (training
      summaries) as it is saved, and ``run.seconds``;
    - artifacts: the file of every dataset saved with ``mlflow: {artifact: <folder>}``;
    - tags: git commit and dirty tree, the sha256 of each file read with ``mlflow: {fingerprint:
      true}``, package versions, the Kaggle message, the command that rebuilds the submission from
      this run's models, and ``error``, the one-line error of a failed run.
    """

    def __init__(self, checked: ParameterCheckHook) -> None:
        """No run until a pipeline starts; the run's parameters are those ``checked`` checked."""
        super().__init__()
        self._checked = checked
        self._catalog: DataCatalog | None = None
        self._run_params: dict[str, Any] = {}
        self._predict_inputs: set[str] = set()
        self._started = 0.0
        self._open = False
        self.rebuild: str | None = None
        atexit.register(self._end_interrupted)

    @property
    def open_run_id(self) -> str | None:
        """The id of the MLflow run of the pipeline now running, if it is tracked."""
        return self.run_id if self._open else None

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        """Set up MLflow from mlflow.yml (kedro-mlflow)."""
        super().after_context_created(context)
        self._project_path = Path(context.project_path)

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        """Start the MLflow run; record the parameters, the code and the package versions."""
        self.run_id, self.rebuild = None, None
        self._started = time.perf_counter()
        super().before_pipeline_run(run_params, pipeline, catalog)
        if not self._is_mlflow_enabled:
            return
        self._open = True
        self._catalog, self._run_params = catalog, run_params
        self._predict_inputs = pipeline.only_nodes_with_tags("predict").inputs()
        pipelines = run_params.get("pipeline_names") or ["__default__"]
        mlflow.log_params(
            {
                **tracking.flatten(self._checked.parameters),
                "run.env": run_params.get("env") or "local",
                "run.pipelines": "+".join(pipelines),
            }
        )
        mlflow.set_tags({**tracking.git_state(self._project_path), **tracking.versions()})

    @hook_impl
    def before_node_run(
        self, node: Node, catalog: DataCatalog, inputs: dict[str, Any], is_async: bool
    ) -> None:
        """Reopen the run in the node's thread (kedro-mlflow) unless it is open there already.

        Reopening an open run would stack it once per node, and a later session in the same
        process would find it still open. The parameters are logged already: kedro-mlflow's own
        logging of a node's parameter inputs (here passed none) would log whole pydantic models.
        """
        active = mlflow.active_run()
        if active is None or active.info.run_id != self.run_id:
            super().before_node_run(node, catalog, {}, is_async)

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any, node: Node) -> None:
        """Fingerprint a raw file when it is read."""
        dataset, settings = self._tracked(dataset_name)
        if settings.get("fingerprint"):
            path = Path(dataset.filepath)
            mlflow.MlflowClient().set_tag(
                self.run_id, f"data.{dataset_name}", f"{path.name} sha256:{tracking.sha256(path)}"
            )

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Node) -> None:
        """Log a saved dataset's metrics, training history and file, as its metadata asks."""
        if not self._open:
            return
        dataset, settings = self._tracked(dataset_name)
        client = mlflow.MlflowClient()
        now = int(time.time() * 1000)
        metrics: list[Metric] = []
        if "metrics" in settings:
            prefix = f"{settings['metrics']}." if settings["metrics"] else ""
            numbers = tracking.numbers(data)
            metrics += [Metric(prefix + key, value, now, 0) for key, value in numbers.items()]
        if "history" in settings:
            metrics += [
                Metric(key, value, now, epoch)
                for key, value, epoch in tracking.history(data, settings["history"])
            ]
            metrics.append(Metric(f"{settings['history']}.seconds", data["seconds"], now, 0))
        if metrics:
            client.log_batch(self.run_id, metrics=metrics)
        if "artifact" in settings:
            client.log_artifact(self.run_id, str(_file(dataset)), settings["artifact"] or None)
        if dataset_name == "submission":
            self.rebuild = self._rebuild_command()
            client.set_tag(self.run_id, "rebuild_command", self.rebuild)

    @hook_impl
    def after_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        """Record the wall time, backend, device and Kaggle message; end the run."""
        if self._open:
            self._record_end()
            if "submission" in pipeline.all_outputs() and self._checked.parameters["kaggle"].submit:
                message = kaggle_api.submission_message(
                    self._checked.parameters["kaggle"].message,
                    catalog.load("combination")["oof_rmse"],
                )
                mlflow.set_tag("kaggle.message", message)
        super().after_pipeline_run(run_params, pipeline, catalog)

    @hook_impl
    def on_pipeline_error(
        self,
        error: Exception,
        run_params: dict[str, Any],
        pipeline: Pipeline,
        catalog: DataCatalog,
    ) -> None:
        """Tag the run with the one-line error; kedro-mlflow ends it FAILED."""
        if self._open:
            self._record_end()
            mlflow.MlflowClient().set_tag(
                self.run_id, "error", first_line(find_input_error(error) or error, limit=5000)
            )
        super().on_pipeline_error(error, run_params, pipeline, catalog)

    def _tracked(self, dataset_name: str) -> tuple[Any, dict[str, Any]]:
        """A dataset of the run and its ``mlflow`` catalog metadata (empty when not tracked)."""
        if not self._open or self._catalog is None:
            return None, {}
        dataset = self._catalog.get(dataset_name)
        return dataset, dict((getattr(dataset, "metadata", None) or {}).get("mlflow") or {})

    def _rebuild_command(self) -> str:
        """``kedro run --pipelines predict`` with the versions of the models this run predicted
        with, and the parameters of this run that the predict pipeline reads."""
        assert self._catalog is not None
        load_versions = {}
        for name in self._predict_inputs:
            dataset = None if name.startswith("params:") else self._catalog.get(name)
            if isinstance(dataset, AbstractVersionedDataset):
                version = dataset.resolve_load_version()
                if version:
                    load_versions[name] = version
        blocks = {name.removeprefix("params:") for name in self._predict_inputs}
        extra = tracking.flatten(self._run_params.get("extra_params") or {})
        params = {"cv.folds": self._checked.parameters["cv"].folds}
        params |= {
            key: value
            for key, value in extra.items()
            if key.split(".")[0] in blocks and not isinstance(value, list | dict)
        }
        return tracking.rebuild_command(self._run_params.get("env"), params, load_versions)

    def _record_end(self) -> None:
        """The run's wall time, and the backend and device if a model ran; the run is closing."""
        self._open = False
        client = mlflow.MlflowClient()
        client.log_metric(self.run_id, "run.seconds", time.perf_counter() - self._started)
        if "keras" in sys.modules:  # a node used Keras: say where it computed
            client.log_param(self.run_id, "run.keras_backend", nn.devices.backend())
            client.log_param(self.run_id, "run.device", nn.devices.describe())

    def _end_interrupted(self) -> None:
        """A run still open when Python exits (Ctrl-C) ends KILLED, not FINISHED or RUNNING."""
        active = mlflow.active_run()
        if self.run_id and (self._open or (active and active.info.run_id == self.run_id)):
            self._record_end()
            killed = RunStatus.to_string(RunStatus.KILLED)
            # Ended here, or MLflow's own exit handler would end it FINISHED.
            while (active := mlflow.active_run()) and active.info.run_id == self.run_id:
                mlflow.end_run(killed)
            mlflow.MlflowClient().set_terminated(self.run_id, killed)


class RunSummaryHook:
    """After a run: the metrics table if it reported, and the submission's path and upload command."""

    def __init__(self, tracking_hook: TrackingHook) -> None:
        """Name the MLflow run of ``tracking_hook`` next to the submission."""
        self._tracking = tracking_hook

    @hook_impl
    def after_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        """Print what the run produced."""
        outputs = pipeline.all_outputs()
        if "metrics" in outputs:
            click.echo(
                f"\nOut-of-fold metrics ({_path(catalog, 'metrics')}):\n"
                + format_metrics(catalog.load("metrics"))
            )
        if "submission" in outputs:
            path = _path(catalog, "submission")
            rmse = catalog.load("combination")["oof_rmse"]
            rows = len(catalog.load("submission"))
            message = kaggle_api.submission_message(catalog.load("params:kaggle").message, rmse)
            run = self._tracking.open_run_id
            kept = f", kept in MLflow run {run}" if run else ""
            click.echo(
                f"\nOut-of-fold RMSE of the final combination: {rmse:.4f} px\n"
                f"Submission: {path} ({rows} rows{kept})\n"
                f"Upload it with:\n  kaggle competitions submit -c {kaggle_api.COMPETITION} "
                f'-f {path} -m "{message}"'
            )
            if run and self._tracking.rebuild:
                click.echo(f"Rebuild it from the same models:\n  {self._tracking.rebuild}")


def _file(dataset: Any) -> Path:
    """The file a file dataset last saved (the latest version when versioned)."""
    # kedro-datasets' MatplotlibDataset has no public path; the project's datasets have filepath.
    return Path(getattr(dataset, "filepath", None) or dataset._get_load_path())


def _path(catalog: DataCatalog, name: str) -> str:
    """Where a file dataset lives, relative to the current folder."""
    return os.path.relpath(_file(catalog.get(name)))
