"""Every ``kedro run`` recorded as one MLflow run, through kedro-mlflow.

kedro-mlflow's ``MlflowHook``, configured in ``conf/*/mlflow.yml``, opens the run and ends it
(FAILED on an error), and leaves out the pipelines in ``disable_tracking``. :class:`TrackingHook`
wraps that hook and records everything else, driven by the catalog's ``mlflow`` metadata, so that a
tracking failure can never fail a node (kedro-mlflow's own datasets log inside the node's save):

- parameters, once, flattened from the checked pydantic blocks
  (``full_model.optimizer.learning_rate``): kedro-mlflow logs each node's parameter inputs as
  they come, whole pydantic models as one value;
- each model's per-epoch RMSE as the model is saved (catalog metadata ``mlflow: {history:
  <prefix>}`` on the training summaries), with the epoch as the step;
- the artefacts' files (metadata ``mlflow: {artifact: <folder>}``): the submission, the report and
  its plots, and the versioned models, combination and flip convention, at the version the run
  wrote (kedro-mlflow's ``MlflowArtifactDataset`` builds the dataset it wraps without the session's
  load and save versions);
- the numbers of the report (metadata ``mlflow: {metrics: true}`` on ``tracked_metrics``);
- the served model, at the end of a run of a training pipeline (kedro-mlflow's ``PipelineML``):
  logged and registered by :mod:`facial_keypoints.serving.model`, not by kedro-mlflow's hook, so
  that its failure is a warning like any other;
- tags: git state, package versions, the sha256 of each raw file read (metadata ``mlflow:
  {fingerprint: true}``), the command that rebuilds the submission from this run's models, the
  Kaggle message, and ``error``, the one-line error of a failed run; a run still open when Python
  exits (Ctrl-C, SIGTERM) ends KILLED, and one left RUNNING by a process that died (kill -9, power
  cut) is marked KILLED by the next run on that machine (tag ``killed.found_dead``).

Tracking never stops training: the store is checked before any node runs (one line, within seconds,
naming the URI with its credentials masked); after that, whatever MLflow fails to record is a
warning, tried again at the end of the run, and named if it still fails, and the run then ends
FAILED rather than FINISHED, which MLflow keeps for runs recorded whole.
``FACIAL_KEYPOINTS_TRACKING=off`` runs without any tracking.

MLflow and kedro-mlflow are imported when a context is created, not with this module, so ``kedro``
commands that create none (``kedro registry list``) start without them.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.io import AbstractVersionedDataset, DataCatalog
from kedro.pipeline import Pipeline
from kedro.pipeline.node import Node
from kedro_mlflow.pipeline.pipeline_ml import PipelineML

from facial_keypoints import nn
from facial_keypoints.domain import kaggle_client, nested
from facial_keypoints.domain.errors import (
    InputDataError,
    find_input_error,
    first_line,
    mask_credentials,
)
from facial_keypoints.hooks import run_record
from facial_keypoints.hooks.parameters import ParameterCheckHook
from facial_keypoints.hooks.run_guard import RunGuardHook

if TYPE_CHECKING:
    from kedro_mlflow.framework.hooks import MlflowHook

logger = logging.getLogger(__name__)

#: ``FACIAL_KEYPOINTS_TRACKING=off``: no MLflow at all.
SWITCH = "FACIAL_KEYPOINTS_TRACKING"
#: How long the store may take to answer before a run starts.
REACH_TIMEOUT_S = 5
_WITHOUT = f"run without tracking: {SWITCH}=off kedro run ..."


def tracking_off() -> bool:
    """Whether ``FACIAL_KEYPOINTS_TRACKING=off`` asks for no MLflow at all."""
    return os.environ.get(SWITCH, "").lower() == "off"


class TrackingUnavailable(InputDataError):
    """The tracking store cannot be reached or used; the message masks its credentials."""


def check_reachable(uri: str) -> None:
    """Raise :class:`TrackingUnavailable` unless the store at ``uri`` answers within seconds."""
    shown = mask_credentials(uri)
    how = (
        f"Start it or set MLFLOW_TRACKING_URI to a store that answers (the default, "
        f"sqlite:///mlflow.db, is a file in the project), or {_WITHOUT}"
    )
    if uri.startswith(("http://", "https://")):
        parts = urllib.parse.urlsplit(uri)
        bare = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()  # no credentials
        try:
            urllib.request.urlopen(bare.rstrip("/") + "/health", timeout=REACH_TIMEOUT_S)
        except urllib.error.HTTPError:
            return  # it answered
        except (OSError, ValueError) as exc:
            reason = mask_credentials(first_line(getattr(exc, "reason", exc)))
            raise TrackingUnavailable(
                f"The MLflow tracking server {shown} cannot be reached ({reason}). {how}"
            ) from None
    elif uri.startswith("sqlite:///"):
        folder = Path(uri.removeprefix("sqlite:///")).parent
        while not folder.exists() and folder != folder.parent:  # MLflow makes the missing ones
            folder = folder.parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            raise TrackingUnavailable(
                f"The MLflow tracking store {shown} cannot be written: {folder} is not a folder "
                f"this user can write. {how}"
            )


class TrackingHook:
    """kedro-mlflow's run lifecycle, plus the parameters, histories, artefacts and tags that
    comparing and rebuilding runs need, with nothing in the nodes and nothing that can fail them."""

    def __init__(self, checked: ParameterCheckHook, guard: RunGuardHook | None = None) -> None:
        """No run until a pipeline starts; the run's parameters are those ``checked`` checked;
        ``guard`` is told the run's name, for a second run's message."""
        self._checked, self._guard = checked, guard
        self._lifecycle: MlflowHook | None = None
        self._catalog: DataCatalog | None = None
        self._run_params: dict[str, Any] = {}
        self._predict_inputs: set[str] = set()
        self._project_path = Path.cwd()
        self._started = 0.0
        self._open = False
        self._unrecorded: list[tuple[str, Callable[[], Any]]] = []
        self.rebuild: str | None = None
        self._sha256: dict[str, str] = {}  # of the raw files this run read, by dataset

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
        """Check that the tracking store answers, then set up MLflow from mlflow.yml
        (kedro-mlflow); nothing with ``FACIAL_KEYPOINTS_TRACKING=off``."""
        self._project_path = Path(context.project_path)
        if tracking_off():
            self._lifecycle = None
            return
        from kedro_mlflow.config.resolvers import resolve_random_name  # noqa: PLC0415
        from kedro_mlflow.framework.hooks import MlflowHook  # noqa: PLC0415 - see the module
        from omegaconf import OmegaConf  # noqa: PLC0415

        if not OmegaConf.has_resolver("km.random_name"):  # as kedro-mlflow does, to read mlflow.yml
            OmegaConf.register_new_resolver("km.random_name", resolve_random_name, use_cache=True)
        uri = str(context.config_loader["mlflow"]["server"]["mlflow_tracking_uri"])
        check_reachable(uri)

        if self._lifecycle is None:
            # After MLflow's own exit handler, registered as MLflow was imported, so that this one
            # runs first (last in, first out) and ends an interrupted run KILLED, not FINISHED.
            atexit.register(self._end_interrupted)
        self._lifecycle = MlflowHook()
        try:
            self._lifecycle.after_context_created(context)
        except Exception as exc:  # a store that answers but refuses: bad credentials, old schema
            raise TrackingUnavailable(
                f"MLflow could not use the tracking store {mask_credentials(uri)} "
                f"({mask_credentials(first_line(exc))}). Fix MLFLOW_TRACKING_URI or "
                f"conf/*/mlflow.yml, or {_WITHOUT}"
            ) from None

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        """Start the MLflow run; record the parameters, the code and the package versions."""
        self.rebuild = None
        self._unrecorded, self._sha256 = [], {}
        self._started = time.perf_counter()
        if self._lifecycle is None:
            return
        import mlflow  # noqa: PLC0415

        self._lifecycle.run_id = None
        try:
            self._lifecycle.before_pipeline_run(run_params, pipeline, catalog)
        except Exception as exc:  # the store failed between the check and the start: nothing ran
            raise TrackingUnavailable(
                f"MLflow could not start a run ({mask_credentials(first_line(exc))}); no node ran. "
                f"Run again, or {_WITHOUT}"
            ) from None
        if self.run_id is None:  # this pipeline is in disable_tracking
            return
        self._open = True
        self._catalog, self._run_params = catalog, run_params
        self._predict_inputs = pipeline.only_nodes_with_tags("predict").inputs()
        pipelines = run_params.get("pipeline_names") or ["__default__"]
        self._record(
            "the parameters",
            lambda: mlflow.log_params(
                {
                    **{  # tune.storage may be a database URL with its password
                        key: mask_credentials(value) if isinstance(value, str) else value
                        for key, value in nested.flatten(self._checked.parameters).items()
                    },
                    "run.env": run_params.get("env") or "local",
                    "run.pipelines": "+".join(pipelines),
                }
            ),
        )
        self._record(
            "the tags",
            lambda: mlflow.set_tags(
                {
                    **run_record.git_state(self._project_path),
                    **run_record.versions(),
                    "run.host": socket.gethostname(),
                    "run.pid": str(os.getpid()),
                }
            ),
        )
        if self._guard is not None:  # once the run says which process runs it
            self._guard.note(mlflow_run=f"{mlflow.active_run().info.run_name} ({self.run_id})")
        self._record("runs left RUNNING by dead processes", self._end_dead_runs)

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
            self._record(
                "the run in a new thread",
                lambda: self._lifecycle.before_node_run(node, catalog, {}, is_async),  # type: ignore[union-attr]
            )

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any, node: Node) -> None:
        """Fingerprint a raw file when it is read."""
        dataset, settings = self._tracked(dataset_name)
        if settings.get("fingerprint"):
            import mlflow  # noqa: PLC0415

            self._sha256[dataset_name] = digest = _sha256(dataset)
            name = PurePosixPath(dataset.location).name
            tag = f"{name} sha256:{digest}"
            run_id = self.run_id
            self._record(
                f"the fingerprint of {name}",
                lambda: mlflow.MlflowClient().set_tag(run_id, f"data.{dataset_name}", tag),
            )

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Node) -> None:
        """Log a saved model's history, an artefact's file and the report's numbers, as the
        metadata asks."""
        if not self._open:
            return
        import mlflow  # noqa: PLC0415
        from mlflow.entities import Metric  # noqa: PLC0415

        dataset, settings = self._tracked(dataset_name)
        client, run_id = mlflow.MlflowClient(), self.run_id
        now = int(time.time() * 1000)
        if data is None and ("history" in settings or settings.get("metrics")):
            data = dataset.load()  # saved by another process (a Dask worker): read it back
        if "history" in settings:
            prefix = settings["history"]
            history = [
                Metric(key, value, now, epoch)
                for key, value, epoch in run_record.history(data, prefix)
            ]
            history.append(Metric(f"{prefix}.seconds", data["seconds"], now, 0))
            self._record(
                f"the history of {prefix}", lambda: client.log_batch(run_id, metrics=history)
            )
        if settings.get("metrics"):
            numbers = [Metric(key, row["value"], now, row["step"]) for key, row in data.items()]
            self._record(
                f"the numbers of {dataset_name}", lambda: client.log_batch(run_id, metrics=numbers)
            )
        if "artifact" in settings:
            folder = settings["artifact"] or None

            def log_artifact() -> None:
                with dataset.local_file() as path:
                    client.log_artifact(run_id, str(path), folder)

            self._record(f"the file {PurePosixPath(dataset.location).name}", log_artifact)
        if dataset_name == "submission":
            self.rebuild = rebuild = self._rebuild_command()
            self._record(
                "the rebuild command",
                lambda: client.set_tag(run_id, "rebuild_command", rebuild),
            )

    @hook_impl
    def after_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        """Record the wall time, backend, device and Kaggle message, and the served model of a
        training run; retry what failed to record; end the run: FINISHED if everything was
        recorded, FAILED naming what was not."""
        if self._open:
            import mlflow  # noqa: PLC0415

            self._record_end()
            kaggle = self._checked.parameters["kaggle"]
            if "submission" in pipeline.all_outputs() and kaggle.submit:
                rmse = catalog.load("combination")["oof_rmse"]
                message = kaggle_client.submission_message(kaggle.message, rmse)
                self._record(
                    "the Kaggle message", lambda: mlflow.set_tag("kaggle.message", message)
                )
            if isinstance(pipeline, PipelineML):
                self._record("the served model", lambda: self._log_served(pipeline, catalog))
            self._retry_unrecorded()
        if self._lifecycle is None:
            return
        run_id = self.run_id
        trained = pipeline.training if isinstance(pipeline, PipelineML) else pipeline
        self._record(  # kedro-mlflow's end of the run, without its own logging of the model
            "the end of the run",
            lambda: self._lifecycle.after_pipeline_run(run_params, trained, catalog),  # type: ignore[union-attr]
        )
        if self._unrecorded and run_id:
            self._end_failed(run_id)

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
            run_id = self.run_id
            text = mask_credentials(first_line(find_input_error(error) or error, limit=5000))
            self._record("the error", lambda: mlflow.MlflowClient().set_tag(run_id, "error", text))
        if self._lifecycle is not None:
            self._record(
                "the end of the run",
                lambda: self._lifecycle.on_pipeline_error(error, run_params, pipeline, catalog),  # type: ignore[union-attr]
            )

    def _record(self, what: str, record: Callable[[], Any]) -> None:
        """``record()``; if MLflow fails, a warning and a note to try again at the end."""
        try:
            record()
        except Exception as exc:  # any failure of the store: locked, gone, full, refused
            logger.warning(
                "MLflow could not record %s (%s); the run goes on, and tries again at its end.",
                what,
                mask_credentials(first_line(exc)),
            )
            self._unrecorded.append((what, record))

    def _retry_unrecorded(self) -> None:
        """Try once more whatever failed to record; warn naming what still fails."""
        failed, self._unrecorded = self._unrecorded, []
        for what, record in failed:
            try:
                record()
            except Exception:  # noqa: BLE001 - named below
                self._unrecorded.append((what, record))
        if self._unrecorded:
            logger.warning(
                "MLflow run %s is missing %s: the store failed twice. The run's files in data/ are "
                "complete; the MLflow run ends FAILED.",
                self.run_id,
                ", ".join(what for what, _ in self._unrecorded),
            )

    def _end_failed(self, run_id: str) -> None:
        """End a run that misses some of its record FAILED, saying what it misses."""
        import mlflow  # noqa: PLC0415
        from mlflow.entities import RunStatus  # noqa: PLC0415

        missing = ", ".join(what for what, _ in self._unrecorded)
        try:
            client = mlflow.MlflowClient()
            client.set_tag(run_id, "error", f"not recorded in MLflow: {missing}")
            client.set_terminated(run_id, RunStatus.to_string(RunStatus.FAILED))
        except Exception as exc:  # noqa: BLE001 - the next run ends it as found dead
            logger.warning(
                "MLflow could not end run %s (%s).", run_id, mask_credentials(first_line(exc))
            )

    def _end_dead_runs(self) -> None:
        """Mark KILLED the runs of this experiment that a process of this machine left RUNNING
        when it died (kill -9, power cut): their process is gone."""
        import mlflow  # noqa: PLC0415
        from mlflow.entities import RunStatus  # noqa: PLC0415

        client = mlflow.MlflowClient()
        experiment = mlflow.active_run().info.experiment_id
        host = socket.gethostname()
        running = client.search_runs(
            [experiment], filter_string="attributes.status = 'RUNNING'", max_results=200
        )
        for run in running:
            pid = run.data.tags.get("run.pid")
            if run.info.run_id == self.run_id or run.data.tags.get("run.host") != host or not pid:
                continue
            if not _process_alive(int(pid)):
                client.set_tag(
                    run.info.run_id,
                    "killed.found_dead",
                    f"process {pid} had ended; marked KILLED by run {self.run_id} at "
                    f"{time.strftime('%Y-%m-%d %H:%M:%S')}",
                )
                client.set_terminated(run.info.run_id, RunStatus.to_string(RunStatus.KILLED))

    def _log_served(self, pipeline: PipelineML, catalog: DataCatalog) -> None:
        """Log and register what the run trained as one MLflow model; move ``@best`` if asked."""
        from facial_keypoints.serving import model as served  # noqa: PLC0415 - imports MLflow

        serving = self._checked.parameters["serving"]
        basis = self._estimate_basis(catalog)
        served.log_served_model(pipeline, catalog, serving, basis)
        if serving.promote_best:
            best = served.best_version(serving.model_name, basis)
            if best is not None:
                served.move_alias(serving.model_name, best.version)
                logger.info(
                    "models:/%s@%s is version %s (estimate %s px)",
                    serving.model_name,
                    served.BEST,
                    best.version,
                    best.tags[served.RMSE_TAG],
                )

    def _estimate_basis(self, catalog: DataCatalog) -> str:
        """What a served model's estimate can be compared with: the training file and the folds'
        grouping (estimates on other data, or grouped otherwise, are not comparable). The file is
        hashed once a run: when it was read, or here if the run did not read it."""
        fingerprint = self._sha256.get("training_raw")
        if fingerprint is None:
            training = catalog.get("training_raw")
            fingerprint = _sha256(training) if training.exists() else "missing"
        return f"training {fingerprint[:16]}; cv.groups {self._checked.parameters['cv'].groups}"

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
        client, run_id = mlflow.MlflowClient(), self.run_id
        seconds = time.perf_counter() - self._started
        self._record("the run's time", lambda: client.log_metric(run_id, "run.seconds", seconds))
        if "keras" in sys.modules:  # a node used Keras: say where it computed
            backend, device = nn.devices.backend(), nn.devices.describe()
            self._record(
                "the backend", lambda: client.log_param(run_id, "run.keras_backend", backend)
            )
            self._record("the device", lambda: client.log_param(run_id, "run.device", device))

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


def _process_alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine still exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _sha256(dataset: Any) -> str:
    """The sha256 of the file ``dataset`` reads (a local copy of a remote one)."""
    with dataset.local_file() as path:
        return run_record.sha256(path)
