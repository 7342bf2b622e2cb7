"""Every ``kedro run`` recorded as one MLflow run, through kedro-mlflow.

kedro-mlflow does what its pieces can, configured in ``conf/*/mlflow.yml`` and the catalog: its
``MlflowHook`` opens the run and ends it (FAILED on an error) and switches its datasets off for the
pipelines in ``disable_tracking``; ``MlflowArtifactDataset`` logs the files of the unversioned
artefacts as they are saved (submission, metrics.json, the report table, the plots), and
``MlflowMetricsHistoryDataset`` the numbers of metrics.json (``tracked_metrics``).

:class:`TrackingHook` wraps that hook and records what those pieces cannot:

- parameters, once, flattened from the checked pydantic blocks
  (``full_model.optimizer.learning_rate``): kedro-mlflow logs each node's parameter inputs as
  they come, whole pydantic models as one value;
- each model's per-epoch RMSE as the model is saved (catalog metadata ``mlflow: {history:
  <prefix>}`` on the training summaries), with the epoch as the step;
- the versioned artefacts (models, combination, flip convention; metadata ``mlflow: {artifact:
  <folder>}``): ``MlflowArtifactDataset`` builds the dataset it wraps without the session's load
  and save versions, so ``--load-versions`` would not reach it and the rebuild command would break;
- tags: git state, package versions, the sha256 of each raw file read (metadata ``mlflow:
  {fingerprint: true}``), the command that rebuilds the submission from this run's models, the
  Kaggle message, and ``error``, the one-line error of a failed run; a run still open when Python
  exits (Ctrl-C) ends KILLED.

MLflow and kedro-mlflow are imported when a context is created, not with this module, so ``kedro``
commands that create none (``kedro registry list``) start without them.
"""

from __future__ import annotations

import atexit
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.io import AbstractVersionedDataset, DataCatalog
from kedro.pipeline import Pipeline
from kedro.pipeline.node import Node

from facial_keypoints import nn
from facial_keypoints.domain import kaggle_client, nested
from facial_keypoints.domain.errors import find_input_error, first_line
from facial_keypoints.hooks import run_record
from facial_keypoints.hooks.parameters import ParameterCheckHook

if TYPE_CHECKING:
    from kedro_mlflow.framework.hooks import MlflowHook


class TrackingHook:
    """kedro-mlflow's run lifecycle, plus the parameters, histories, versioned artefacts and tags
    that comparing and rebuilding runs need, with nothing in the nodes."""

    def __init__(self, checked: ParameterCheckHook) -> None:
        """No run until a pipeline starts; the run's parameters are those ``checked`` checked."""
        self._checked = checked
        self._lifecycle: MlflowHook | None = None
        self._catalog: DataCatalog | None = None
        self._run_params: dict[str, Any] = {}
        self._predict_inputs: set[str] = set()
        self._project_path = Path.cwd()
        self._started = 0.0
        self._open = False
        self.rebuild: str | None = None

    @property
    def run_id(self) -> str | None:
        """The id of the MLflow run kedro-mlflow started last (None: none, or not tracked)."""
        return self._lifecycle.run_id if self._lifecycle is not None else None

    @property
    def open_run_id(self) -> str | None:
        """The id of the MLflow run of the pipeline now running, if it is tracked."""
        return self.run_id if self._open else None

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        """Set up MLflow from mlflow.yml (kedro-mlflow)."""
        from kedro_mlflow.framework.hooks import MlflowHook  # noqa: PLC0415 - see the module

        if self._lifecycle is None:
            # After MLflow's own exit handler, registered as MLflow was imported, so that this one
            # runs first (last in, first out) and ends an interrupted run KILLED, not FINISHED.
            atexit.register(self._end_interrupted)
        self._lifecycle = MlflowHook()
        self._lifecycle.after_context_created(context)
        self._project_path = Path(context.project_path)

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        """Start the MLflow run; record the parameters, the code and the package versions."""
        import mlflow  # noqa: PLC0415

        assert self._lifecycle is not None
        self.rebuild = None
        self._started = time.perf_counter()
        self._lifecycle.run_id = None
        self._lifecycle.before_pipeline_run(run_params, pipeline, catalog)
        if self.run_id is None:  # this pipeline is in disable_tracking
            return
        self._open = True
        self._catalog, self._run_params = catalog, run_params
        self._predict_inputs = pipeline.only_nodes_with_tags("predict").inputs()
        pipelines = run_params.get("pipeline_names") or ["__default__"]
        mlflow.log_params(
            {
                **nested.flatten(self._checked.parameters),
                "run.env": run_params.get("env") or "local",
                "run.pipelines": "+".join(pipelines),
            }
        )
        mlflow.set_tags({**run_record.git_state(self._project_path), **run_record.versions()})

    @hook_impl
    def before_node_run(
        self, node: Node, catalog: DataCatalog, inputs: dict[str, Any], is_async: bool
    ) -> None:
        """Reopen the run in the node's thread (kedro-mlflow) unless it is open there already.

        Reopening an open run would stack it once per node, and a later session in the same
        process would find it still open. The parameters are logged already, so kedro-mlflow is
        handed no inputs to log.
        """
        import mlflow  # noqa: PLC0415

        if not self._open or self._lifecycle is None:
            return
        active = mlflow.active_run()
        if active is None or active.info.run_id != self.run_id:
            self._lifecycle.before_node_run(node, catalog, {}, is_async)

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any, node: Node) -> None:
        """Fingerprint a raw file when it is read."""
        dataset, settings = self._tracked(dataset_name)
        if settings.get("fingerprint"):
            import mlflow  # noqa: PLC0415

            path = Path(dataset.filepath)
            mlflow.MlflowClient().set_tag(
                self.run_id, f"data.{dataset_name}", f"{path.name} sha256:{run_record.sha256(path)}"
            )

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Node) -> None:
        """Log a saved model's history and a versioned artefact's file, as the metadata asks."""
        if not self._open:
            return
        import mlflow  # noqa: PLC0415
        from mlflow.entities import Metric  # noqa: PLC0415

        dataset, settings = self._tracked(dataset_name)
        client = mlflow.MlflowClient()
        if "history" in settings:
            now = int(time.time() * 1000)
            prefix = settings["history"]
            metrics = [
                Metric(key, value, now, epoch)
                for key, value, epoch in run_record.history(data, prefix)
            ]
            metrics.append(Metric(f"{prefix}.seconds", data["seconds"], now, 0))
            client.log_batch(self.run_id, metrics=metrics)
        if "artifact" in settings:
            client.log_artifact(self.run_id, str(dataset.filepath), settings["artifact"] or None)
        if dataset_name == "submission":
            self.rebuild = self._rebuild_command()
            client.set_tag(self.run_id, "rebuild_command", self.rebuild)

    @hook_impl
    def after_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        """Record the wall time, backend, device and Kaggle message; end the run."""
        if self._open:
            import mlflow  # noqa: PLC0415

            self._record_end()
            kaggle = self._checked.parameters["kaggle"]
            if "submission" in pipeline.all_outputs() and kaggle.submit:
                rmse = catalog.load("combination")["oof_rmse"]
                mlflow.set_tag(
                    "kaggle.message", kaggle_client.submission_message(kaggle.message, rmse)
                )
        if self._lifecycle is not None:
            self._lifecycle.after_pipeline_run(run_params, pipeline, catalog)

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
            import mlflow  # noqa: PLC0415

            self._record_end()
            mlflow.MlflowClient().set_tag(
                self.run_id, "error", first_line(find_input_error(error) or error, limit=5000)
            )
        if self._lifecycle is not None:
            self._lifecycle.on_pipeline_error(error, run_params, pipeline, catalog)

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
        extra = nested.flatten(self._run_params.get("extra_params") or {})
        params = {"cv.folds": self._checked.parameters["cv"].folds}
        params |= {
            key: value
            for key, value in extra.items()
            if key.split(".")[0] in blocks and not isinstance(value, list | dict)
        }
        return run_record.rebuild_command(self._run_params.get("env"), params, load_versions)

    def _record_end(self) -> None:
        """The run's wall time, and the backend and device if a model ran; the run is closing."""
        import mlflow  # noqa: PLC0415

        self._open = False
        client = mlflow.MlflowClient()
        client.log_metric(self.run_id, "run.seconds", time.perf_counter() - self._started)
        if "keras" in sys.modules:  # a node used Keras: say where it computed
            client.log_param(self.run_id, "run.keras_backend", nn.devices.backend())
            client.log_param(self.run_id, "run.device", nn.devices.describe())

    def _end_interrupted(self) -> None:
        """A run still open when Python exits (Ctrl-C) ends KILLED, not FINISHED or RUNNING."""
        if not self.run_id:
            return
        import mlflow  # noqa: PLC0415
        from mlflow.entities import RunStatus  # noqa: PLC0415

        active = mlflow.active_run()
        if self._open or (active and active.info.run_id == self.run_id):
            self._record_end()
            killed = RunStatus.to_string(RunStatus.KILLED)
            # Ended here, or MLflow's own exit handler would end it FINISHED.
            while (active := mlflow.active_run()) and active.info.run_id == self.run_id:
                mlflow.end_run(killed)
            mlflow.MlflowClient().set_terminated(self.run_id, killed)
