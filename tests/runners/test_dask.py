"""DaskRunner on tiny in-memory pipelines: nodes run on a cluster's workers after their upstream
nodes, in-memory data passes between workers through the scheduler, a failing node fails the run
with its own error, and the driver replays the dataset hooks the workers ran without."""

from __future__ import annotations

import logging
import os
import re
from datetime import datetime, timedelta

import pytest
from distributed import Client, LocalCluster
from kedro.framework.hooks import hook_impl
from kedro.framework.hooks.manager import _create_hook_manager
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline, node

from facial_keypoints.domain.errors import find_input_error
from facial_keypoints.domain.params import ParameterError
from facial_keypoints.runners import DaskRunner
from facial_keypoints.runners.dask import SchedulerUnreachable, _DaskDataset
from tests.conftest import changed
from tests.end_to_end.conftest import free_port
from tests.runners.nodes import add, broken, double, seeded_draws, square

COMPLETED = re.compile(r"Completed node: (\S+) on worker (\S+) \(([\d.]+) s from (\S+)\)")

DIAMOND = Pipeline(
    [
        node(double, "x", "doubled", name="double"),
        node(square, "x", "squared", name="square"),
        node(add, ["doubled", "squared"], "total", name="add"),
    ]
)


class Recorder:
    """The node-level hooks the driver calls, and what the tracking hook would read back."""

    def __init__(self, catalog: DataCatalog) -> None:
        self.catalog = catalog
        self.loaded: set[tuple[str, str]] = set()
        self.saved: dict[tuple[str, str], object] = {}
        self.errors: list[tuple[str, Exception]] = []

    @hook_impl
    def after_dataset_loaded(self, dataset_name, data, node):
        assert data is None
        self.loaded.add((node.name, dataset_name))

    @hook_impl
    def after_dataset_saved(self, dataset_name, data, node):
        assert data is None  # the data stayed on the worker: read it back, as TrackingHook does
        self.saved[node.name, dataset_name] = self.catalog.get(dataset_name).load()

    @hook_impl
    def on_node_error(self, error, node):
        self.errors.append((node.name, error))


@pytest.fixture
def catalog(params) -> DataCatalog:
    """x = 3, and conf's dask block: a local cluster of worker processes."""
    return DataCatalog({"x": MemoryDataset(3), "params:dask": MemoryDataset(params["dask"])})


def run(pipeline, catalog, recorder=None):
    """DaskRunner's run of ``pipeline``, with a recorder of the driver's hooks; both."""
    recorder = recorder or Recorder(catalog)
    hooks = _create_hook_manager()
    hooks.register(recorder)
    return DaskRunner().run(pipeline, catalog, hooks), recorder


def test_nodes_run_on_the_workers_after_their_upstream_nodes_and_data_passes_between_them(
    catalog, caplog
):
    with caplog.at_level(logging.INFO, logger="facial_keypoints.runners"):
        result, recorder = run(DIAMOND, catalog)
    assert result["total"].load()["sum"] == 2 * 3 + 3 * 3
    assert result["total"].load()["pid"] != os.getpid()  # ran in a worker process
    assert isinstance(catalog.get("doubled"), _DaskDataset)  # the driver's catalog, shared
    completed = {
        name: (worker, float(seconds), datetime.fromisoformat(start))
        for name, worker, seconds, start in COMPLETED.findall(caplog.text)
    }
    assert set(completed) == {"double", "square", "add"}
    (first, seconds_1, start_1), (second, seconds_2, start_2) = (
        completed["double"],
        completed["square"],
    )
    assert first != second  # two independent nodes, two idle workers
    assert start_2 < start_1 + timedelta(seconds=seconds_1)  # at the same time
    assert start_1 < start_2 + timedelta(seconds=seconds_2)
    assert "Completed 3 out of 3 tasks" in caplog.text
    assert "Dask: a local cluster, 2 workers; dashboard" in caplog.text


def test_the_driver_replays_each_nodes_dataset_hooks_before_releasing_its_data(catalog):
    _, recorder = run(DIAMOND, catalog)
    assert recorder.loaded == {
        ("double", "x"),
        ("square", "x"),
        ("add", "doubled"),
        ("add", "squared"),
    }
    assert recorder.saved == {
        ("double", "doubled"): 6,
        ("square", "squared"): 9,
        ("add", "total"): {"sum": 15, "pid": recorder.saved["add", "total"]["pid"]},
    }


def test_a_failing_node_fails_the_run_with_its_error_after_the_driver_hooks_hear_of_it(
    catalog, caplog
):
    pipeline = DIAMOND + Pipeline(
        [node(broken, "squared", "nothing", name="broken"), node(double, "nothing", "never")]
    )
    recorder = Recorder(catalog)
    with pytest.raises(ValueError, match="no faces in 9"):
        run(pipeline, catalog, recorder)
    ((name, error),) = recorder.errors
    assert name == "broken" and str(error) == "no faces in 9"
    assert "You can resume the pipeline run" in caplog.text


@pytest.fixture
def scheduler(monkeypatch):
    """A running cluster of one in-process worker, named by DASK_SCHEDULER_ADDRESS."""
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster:
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
        with Client(cluster) as client:
            yield client


def test_a_scheduler_named_by_the_environment_runs_the_nodes_and_keeps_nothing_of_the_run(
    catalog, scheduler
):
    result, _ = run(DIAMOND, catalog)
    assert result["total"].load()["sum"] == 15
    assert not scheduler.list_datasets()  # released, though the scheduler outlives the run
    assert scheduler.status == "running"


def test_a_scheduler_that_cannot_be_reached_is_one_line_naming_it_and_the_fix(
    catalog, params, monkeypatch
):
    address = f"tcp://127.0.0.1:{free_port()}"
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)
    catalog["params:dask"] = MemoryDataset(changed(params["dask"], connect_timeout=0.5))
    with pytest.raises(SchedulerUnreachable) as raised:
        run(DIAMOND, catalog)
    message = str(find_input_error(raised.value))
    assert "\n" not in message
    assert message.startswith(f"The Dask scheduler {address} (DASK_SCHEDULER_ADDRESS) cannot be")
    assert "unset it to run on a local cluster" in message


def test_the_dask_block_is_required(catalog):
    catalog = DataCatalog({"x": MemoryDataset(3)})
    with pytest.raises(ParameterError, match="Parameter block 'dask' is missing"):
        run(DIAMOND, catalog)


def test_a_node_draws_from_pythons_random_generator_as_if_it_ran_alone(catalog):
    """Keras draws its layers' seeds from Python's generator after a node seeds it; the worker's
    own thread draws from it too, as often as the node, while the node runs."""
    pipeline = Pipeline([node(seeded_draws, "x", "draws", name="draw")])
    alone = seeded_draws(3, noisy=False)
    result, _ = run(pipeline, catalog)
    assert result["draws"].load() == alone
