"""``kedro run --runner facial_keypoints.runners.DaskRunner``: each node a task of a Dask cluster,
the nodes that do not depend on each other (the folds) at the same time on different workers.

Kedro's documented Dask deployment, with this project's hooks and parameters:

- the driver (the ``kedro run`` process) holds the session, every project hook and the MLflow run.
  It submits each node with its upstream nodes' futures as dependencies and, as each node
  completes, replays that node's dataset hooks (``after_dataset_loaded``/``after_dataset_saved``,
  with ``data=None``: the hooks read what they need from the catalog), so the one MLflow run
  records what the workers wrote;
- the workers run the nodes, with no hooks: the project's hooks are set up by
  ``after_context_created`` in the driver only. They read and write the catalog's files themselves
  (workers on other machines need the same paths, or remote URLs), and pass in-memory datasets
  through the scheduler (:class:`_DaskDataset`).

The cluster is the scheduler at ``DASK_SCHEDULER_ADDRESS`` when it is set, otherwise a local
cluster of worker processes sized by the ``dask`` parameters (conf/base/parameters_dask.yml),
closed when the run ends.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from itertools import chain
from typing import TYPE_CHECKING, Any, NoReturn

import dask
from distributed import Client, Future, LocalCluster, as_completed, get_client, get_worker
from distributed import worker_client as _worker_client
from kedro.framework.hooks.manager import _create_hook_manager, _NullPluginManager
from kedro.framework.project import LOGGING, configure_logging
from kedro.io import AbstractDataset, DatasetNotFoundError, MemoryDataset
from kedro.runner import AbstractRunner
from kedro.runner.task import Task

from facial_keypoints.domain.errors import InputDataError, first_line, mask_credentials
from facial_keypoints.domain.params import DaskParams, check_block
from facial_keypoints.logs import quiet_logs

if TYPE_CHECKING:
    from kedro.io import CatalogProtocol
    from kedro.pipeline import Pipeline
    from kedro.pipeline.node import Node
    from pluggy import PluginManager

#: The scheduler to run on; unset: a local cluster. Dask's own name for it.
SCHEDULER_ADDRESS = "DASK_SCHEDULER_ADDRESS"


class SchedulerUnreachable(InputDataError):
    """The scheduler that ``DASK_SCHEDULER_ADDRESS`` names does not answer."""


@contextlib.contextmanager
def _client() -> Iterator[Client]:
    """The cluster's client: on a worker, the running task's; on the driver, the run's."""
    try:
        get_worker()
    except ValueError:  # not in a task: the driver
        yield get_client()
        return
    # The task keeps its thread: a load or save waits for no other task, and a task that seceded
    # would wait, to rejoin, for whatever node the worker started in its place.
    with _worker_client(separate_thread=False) as client:
        yield client


class _DaskDataset(AbstractDataset):
    """An in-memory dataset of the run, published on the scheduler under a name of its own, so
    that a node on any worker, and the driver's hooks, read what a node on another worker saved."""

    _EPHEMERAL = True

    def __init__(self, name: str, metadata: dict[str, Any] | None = None) -> None:
        """``name``: its name on the scheduler; ``metadata``: the catalog entry's (``mlflow``)."""
        self._name = name
        self.metadata = metadata

    def load(self) -> Any:
        """The data a node saved, from the scheduler (a copy of its own, as each load unpickles
        it)."""
        with _client() as client:
            return client.get_dataset(self._name)

    def save(self, data: Any) -> None:
        """Publish ``data`` on the scheduler (in place of an earlier save)."""
        with _client() as client:
            client.publish_dataset(data, name=self._name, override=True)

    def _exists(self) -> bool:
        with _client() as client:
            return self._name in client.list_datasets()

    def _release(self) -> None:
        with _client() as client, contextlib.suppress(KeyError):
            client.unpublish_dataset(self._name)

    def _describe(self) -> dict[str, Any]:
        return {"name": self._name}


#: The functions of Python's ``random`` module: methods of the generator every thread shares.
_RANDOM_FUNCTIONS = tuple(
    name
    for name in random.__all__
    if isinstance(getattr(getattr(random, name), "__self__", None), random.Random)
)
#: The generator of the node this thread runs, if it runs one.
_node = threading.local()


def _per_node(name: str) -> Callable[..., Any]:
    """``random.<name>``, drawing from the generator of the node this thread runs, if any."""
    shared = getattr(random, name)

    def draw(*args: Any, **kwargs: Any) -> Any:
        generator = getattr(_node, "random", None)
        return (shared if generator is None else getattr(generator, name))(*args, **kwargs)

    draw.per_node = True  # type: ignore[attr-defined]
    return draw


@contextlib.contextmanager
def _random_of_its_own() -> Iterator[None]:
    """Python's ``random`` functions, in this thread, draw from a generator of the node's own.

    Keras draws its layers' default seeds from that shared generator after a training node seeds
    it, while Dask's own thread of the worker draws from it too (to size the data it holds, to pick
    a worker to fetch from): the node would train a slightly different model from run to run."""
    if not getattr(random.random, "per_node", False):
        for name in _RANDOM_FUNCTIONS:
            setattr(random, name, _per_node(name))
    _node.random = random.Random()
    try:
        yield
    finally:
        _node.random = None


def _run_node(
    node: Node,
    catalog: CatalogProtocol,
    is_async: bool,
    run_id: str | None,
    logging_config: dict[str, Any],
    *_upstream: Any,
) -> dict[str, Any]:
    """Run ``node`` on this worker with an empty hook manager; where and when it ran.

    ``_upstream`` are the results of the nodes it depends on, passed only so that Dask starts it
    after them."""
    if LOGGING.data != logging_config:  # a worker process: the driver's log settings
        configure_logging(logging_config)
    quiet_logs()
    started = time.time()
    with _random_of_its_own():
        Task(
            node=node,
            catalog=catalog,
            hook_manager=_create_hook_manager(),
            is_async=is_async,
            run_id=run_id,
        ).execute()
    return {"worker": get_worker().address, "started": started, "seconds": time.time() - started}


def _cluster_settings(catalog: CatalogProtocol) -> DaskParams:
    """The run's ``dask`` parameters, checked."""
    try:
        raw = catalog.load("params:dask")
    except DatasetNotFoundError:
        return check_block({}, "dask")  # raises: the block is missing
    return raw if isinstance(raw, DaskParams) else check_block({"dask": raw}, "dask")


@contextlib.contextmanager
def _cluster(settings: DaskParams, logger: logging.Logger) -> Iterator[Client]:
    """A client of the scheduler at ``DASK_SCHEDULER_ADDRESS``, or of a local cluster of worker
    processes (they inherit this process's environment: KERAS_BACKEND...), closed on exit."""
    address = os.environ.get(SCHEDULER_ADDRESS)
    if not address:
        with (
            _dask_warnings_only(),
            LocalCluster(
                n_workers=settings.n_workers,
                threads_per_worker=settings.threads_per_worker,
                processes=True,
            ) as local,
            Client(local) as client,
        ):
            _log_cluster(client, "a local cluster", logger)
            yield client
        return
    shown = mask_credentials(address)
    try:
        client = Client(address, timeout=settings.connect_timeout)
    except (OSError, ValueError) as exc:
        raise SchedulerUnreachable(
            f"The Dask scheduler {shown} ({SCHEDULER_ADDRESS}) cannot be reached "
            f"({mask_credentials(first_line(exc))}). Start it (`dask scheduler`, then `dask worker "
            f"{shown}` on each machine), fix {SCHEDULER_ADDRESS}, or unset it to run on a local "
            "cluster."
        ) from None
    with client:
        _log_cluster(client, f"the scheduler {shown}", logger)
        yield client


@contextlib.contextmanager
def _dask_warnings_only() -> Iterator[None]:
    """Dask's INFO lines (each worker, connection and plugin of the local cluster starting and
    stopping) left out of the run's log, in this process and in the workers it starts."""
    logger = logging.getLogger("distributed")
    level = logger.level
    # Dask sets its loggers' levels as it is imported, in the workers before any task can.
    environ = {
        **dask.config.get("distributed.nanny.pre-spawn-environ"),
        "DASK_DISTRIBUTED__LOGGING__DISTRIBUTED": "warning",
    }
    logger.setLevel(logging.WARNING)
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
            yield
    finally:
        logger.setLevel(level)


def _log_cluster(client: Client, what: str, logger: logging.Logger) -> None:
    workers = len(client.scheduler_info().get("workers", {}))
    logger.info("Dask: %s, %d workers; dashboard %s", what, workers, client.dashboard_link)
    if not workers:
        logger.warning("Dask: the scheduler has no workers yet; the nodes wait until one joins.")


class DaskRunner(AbstractRunner):
    """Each node a task of a Dask cluster, after the nodes it depends on (module docstring)."""

    def __init__(self, is_async: bool = False) -> None:
        """``is_async``: each node loads and saves its datasets in threads (``--async``)."""
        super().__init__(is_async=is_async)

    def _get_executor(self, max_workers: int) -> None:
        """No executor: the cluster runs the nodes."""

    def _run(
        self,
        pipeline: Pipeline,
        catalog: CatalogProtocol,
        hook_manager: PluginManager | None = None,
        run_id: str | None = None,
    ) -> None:
        """Run ``pipeline`` on the cluster; its in-memory outputs come back into ``catalog``."""
        settings = _cluster_settings(catalog)
        hooks = hook_manager or _NullPluginManager()
        prefix = f"{run_id or uuid.uuid4().hex}/"  # runs sharing a scheduler keep their own data
        with _cluster(settings, self._logger) as client:
            shared = _shared_in_memory(pipeline, catalog, prefix)
            try:
                self._run_on(client, pipeline, catalog, hooks, run_id, prefix)
                _kept_in_memory(pipeline, catalog, shared)
            finally:
                _unpublished(shared)

    def _run_on(  # noqa: PLR0913
        self,
        client: Client,
        pipeline: Pipeline,
        catalog: CatalogProtocol,
        hooks: PluginManager,
        run_id: str | None,
        prefix: str,
    ) -> None:
        """Submit every node, then follow them as they complete: log, replay hooks, release."""
        nodes = pipeline.nodes
        dependencies = pipeline.node_dependencies
        load_counts = Counter(chain.from_iterable(node.inputs for node in nodes))
        logging_config = dict(LOGGING.data)
        futures: dict[Node, Future] = {}
        for node in nodes:  # in topological order: the futures of its upstream nodes exist
            futures[node] = client.submit(
                _run_node,
                node,
                catalog,
                self._is_async,
                run_id,
                logging_config,
                *(futures[upstream] for upstream in dependencies[node]),
                key=f"{prefix}{node.name}",
            )
        node_of = {future.key: node for node, future in futures.items()}
        done: set[Node] = set()
        try:
            for future in as_completed(futures.values()):
                node = node_of[future.key]
                if future.status != "finished":
                    failed = _first_failed(node, futures, dependencies)
                    self._failed(failed, futures, pipeline, catalog, hooks, run_id, done)
                ran = future.result()
                done.add(node)
                self._logger.info(
                    "Completed node: %s on worker %s (%.1f s from %s)",
                    node.name,
                    ran["worker"],
                    ran["seconds"],
                    datetime.fromtimestamp(ran["started"]).isoformat(timespec="milliseconds"),
                )
                self._logger.info("Completed %d out of %d tasks", len(done), len(nodes))
                _replay_dataset_hooks(node, hooks)
                self._release_datasets(node, catalog, load_counts, pipeline)
        finally:
            client.cancel([future for future in futures.values() if not future.done()])

    def _failed(  # noqa: PLR0913
        self,
        node: Node,
        futures: dict[Node, Future],
        pipeline: Pipeline,
        catalog: CatalogProtocol,
        hooks: PluginManager,
        run_id: str | None,
        done: set[Node],
    ) -> NoReturn:
        """Raise the error of ``node``, after the driver's ``on_node_error`` hooks and Kedro's
        advice on resuming (its inputs stay on the worker: the hooks are handed none)."""
        try:
            futures[node].result()
        except Exception as error:
            hooks.hook.on_node_error(
                error=error,
                node=node,
                catalog=catalog,
                inputs={},
                is_async=self._is_async,
                run_id=run_id,
            )
            self._suggest_resume_scenario(pipeline, done, catalog)
            raise
        raise RuntimeError(f"Dask reported node {node.name} failed, but it has a result.")


def _first_failed(node: Node, futures: dict[Node, Future], dependencies: dict) -> Node:
    """The node whose error failed ``node``: Dask fails the dependents of a failed task with its
    error, and may report one of them first."""
    for upstream in dependencies[node]:
        if futures[upstream].status == "error":
            return _first_failed(upstream, futures, dependencies)
    return node


def _replay_dataset_hooks(node: Node, hooks: PluginManager) -> None:
    """The dataset hooks a worker would have called for ``node``, on the driver, without data."""
    for name in node.inputs:
        hooks.hook.after_dataset_loaded(dataset_name=name, data=None, node=node)
    for name in node.outputs:
        hooks.hook.after_dataset_saved(dataset_name=name, data=None, node=node)


@contextlib.contextmanager
def _replacing() -> Iterator[None]:
    """Kedro's warning for each replaced dataset left out: these are the runner's own."""
    logger = logging.getLogger("kedro.io.data_catalog")  # DataCatalog.__setitem__'s
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _shared_in_memory(
    pipeline: Pipeline, catalog: CatalogProtocol, prefix: str
) -> dict[str, _DaskDataset]:
    """Replace in ``catalog`` (the driver's, which the hooks hold) each empty MemoryDataset of
    ``pipeline`` by a :class:`_DaskDataset`; those, by name. Parameters, and inputs given as data,
    keep their MemoryDatasets: their data travels with the catalog."""
    shared = {}
    with _replacing():
        for name in sorted(pipeline.datasets()):
            if name == "parameters" or name.startswith("params:"):
                continue
            dataset = catalog.get(name)
            if isinstance(dataset, MemoryDataset) and not dataset.exists():
                shared[name] = _DaskDataset(prefix + name, dataset.metadata)
                catalog[name] = shared[name]
    return shared


def _kept_in_memory(
    pipeline: Pipeline, catalog: CatalogProtocol, shared: dict[str, _DaskDataset]
) -> None:
    """The run's in-memory outputs back in MemoryDatasets of ``catalog`` before the cluster
    closes: the run's result and the end-of-run hooks read them as after any other runner."""
    with _replacing():
        for name in sorted(pipeline.outputs() & set(shared)):
            if shared[name].exists():
                catalog[name] = MemoryDataset(shared[name].load(), metadata=shared[name].metadata)


def _unpublished(shared: dict[str, _DaskDataset]) -> None:
    """Nothing of the run left on the scheduler: one that outlives the run keeps no data of it."""
    for dataset in shared.values():
        with contextlib.suppress(Exception):  # a scheduler already gone holds nothing
            dataset.release()
