"""What a run's log shows: node progress, the per-epoch lines and the end-of-run table.

Dataset loads and saves go to DEBUG (shown when the ``kedro`` logger is at DEBUG in
``conf/logging.yml``), and warnings of third-party packages that a user of the kit can do nothing
about are dropped; the kit's own warnings and every other package's stay. They are filters on
loggers rather than on Python's warnings: MLflow shows its own warnings through a filter of its own
that overrides the user's (``filter_user_warnings_once``), and Kedro's logging configuration may
name no project class.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Iterator

#: Messages dropped, by logger: text any of them contains.
THIRD_PARTY_NOISE: dict[str, tuple[str, ...]] = {
    # MLflow, when kedro-mlflow's command-line plugin defines its model class on every `kedro` start.
    "py.warnings": (
        "Add type hints to the `predict` method",
        "Any type hint is inferred as AnyType",
        # Kedro registers the config loader's resolvers through OmegaConf's deprecated call.
        "register_new_resolver() is deprecated",
        # kedro-viz's server code, on FastAPI's deprecation (`kedro viz`).
        "ORJSONResponse is deprecated",
        # MLflow, as a run logs the served model: its signature is given, an example adds nothing.
        "An input example was not provided",
    ),
    # MLflow, on kedro-mlflow's way of logging a model (a pickled Python object, as it must be).
    "mlflow.pyfunc": ("Passing a Python object as `python_model`",),
    # kedro-mlflow, per dataset and parameter of the served model, with a broken format string.
    "kedro_mlflow.mlflow.kedro_pipeline_model": ("to the Pipeline catalog", "is persisted (as"),
    # kedro-viz, on every `kedro run --pipelines ...` and every run with another runner than
    # Kedro's SequentialRunner (DaskRunner): its run events are for whole sequential runs only.
    "kedro_viz.integrations.kedro.run_hooks": (
        "Workflow tracking is disabled during partial",
        "Workflow tracking is disabled for non-sequential runners",
    ),
    # kedro-viz (`kedro viz build`/`run`) in a project that has not run yet: nothing to show.
    "kedro_viz.api.rest.responses.run_events": ("Run events file",),
    # kedro-mlflow, on every run.
    "kedro_mlflow.framework.hooks.mlflow_hook": ("Registering new custom resolver",),
    # kedro-mlflow, each time kedro-viz (or Kedro's hint on resuming a run) takes part of a training
    # pipeline paired with the served model: the part is a plain pipeline, as it should be.
    "kedro_mlflow.pipeline.pipeline_ml": ("This 'Pipeline' is no longer a 'PipelineML'",),
    # A Dask worker, on a node that failed (with its traceback), and as a failed run closes the
    # cluster under a node still running (with a traceback of the lost connection): DaskRunner
    # raises the node's error in the driver, a user's error as one line.
    "distributed.worker": (
        "Compute Failed",
        "Failed to communicate with scheduler during heartbeat",
    ),
    "distributed.worker.state_machine": ("ended with CancelledError",),
    # Keras under TensorFlow, when the seven models of a fold predict one after another.
    "tensorflow": ("triggered tf.function retracing",),
}

#: Warnings of processes that Python spawns (``kedro viz run`` serves from one, which imports FastAPI
#: before any code of the project): dropped through the ``-W`` options a spawned interpreter inherits.
SPAWNED_NOISE = ("ORJSONResponse is deprecated",)

DATASET_IO = ("Loading data from ", "Saving data to ")

#: Kedro's loggers of per-node lines: a node starting, a runner's progress.
NODE_LINES = ("kedro.pipeline.node", "kedro.runner.sequential_runner")
#: Whether this thread runs nodes inside something that logs its own progress.
_inner = threading.local()


class _DropThirdPartyNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(text in message for text in THIRD_PARTY_NOISE.get(record.name, ()))


class _DatasetIOAtDebug(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO and record.getMessage().startswith(DATASET_IO):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger("kedro").isEnabledFor(logging.DEBUG)
        return True


def quiet_logs() -> None:
    """Attach the filters to their loggers (once; Kedro's logging configuration keeps them)."""
    for name in THIRD_PARTY_NOISE:
        _add_once(logging.getLogger(name), _DropThirdPartyNoise())
    _add_once(logging.getLogger("kedro.io.data_catalog"), _DatasetIOAtDebug())
    for text in SPAWNED_NOISE:
        if f"ignore:{text}" not in sys.warnoptions:
            sys.warnoptions.append(f"ignore:{text}")


def _add_once(logger: logging.Logger, new: logging.Filter) -> None:
    if not any(type(existing) is type(new) for existing in logger.filters):
        logger.addFilter(new)


class _DropInnerNodeLines(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not getattr(_inner, "active", False)


@contextlib.contextmanager
def inner_node_lines_dropped() -> Iterator[None]:
    """Kedro's INFO lines of nodes run inside a node or a request (a study's trials, the served
    model's answer) left out, in this thread only: the caller logs its own progress."""
    for name in NODE_LINES:
        _add_once(logging.getLogger(name), _DropInnerNodeLines())
    _inner.active = True
    try:
        yield
    finally:
        _inner.active = False
