"""The four pipelines run in memory, one after the other, as Kedro's starters test them: the
wiring tests of tests/pipelines/<name>/test_pipeline.py read what each wrote."""

from __future__ import annotations

from typing import Any

import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline
from kedro.runner import SequentialRunner

from facial_keypoints.pipelines import data_engineering, modelling, predict, reporting
from tests.conftest import TINY_COMPACT, changed, load_params

FOLDS = 2  # the smallest number of folds that averages


def tiny_params(tmp_path) -> dict[str, Any]:
    """The demo profile's parameters, shrunk to one epoch of a very small model."""
    params = load_params("demo")
    architectures = params["architectures"].model_dump()
    return {
        **params,
        "training": changed(
            params["training"], verbose=0, checkpoint_dir=str(tmp_path / "checkpoints")
        ),
        "full_model": changed(params["full_model"], epochs=1, batch_size=16),
        "specialists": changed(params["specialists"], epochs=1, batch_size=16),
        "architectures": changed(
            params["architectures"], **{**architectures, "compact": TINY_COMPACT}
        ),
    }


class KeptMemoryDataset(MemoryDataset):
    """A MemoryDataset that keeps its data when the runner releases it, to be read after the run."""

    def _release(self) -> None:
        pass


def run_in_memory(
    pipeline: Pipeline, inputs: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """Run ``pipeline`` on MemoryDatasets holding ``inputs`` and ``params``; every dataset it wrote."""
    data = {**inputs, **{f"params:{key}": value for key, value in params.items()}}
    catalog = DataCatalog(
        {name: MemoryDataset(value, copy_mode="assign") for name, value in data.items()}
    )
    for name in pipeline.all_outputs():
        catalog[name] = KeptMemoryDataset(copy_mode="assign")
    SequentialRunner().run(pipeline, catalog)
    return {name: catalog.load(name) for name in pipeline.all_outputs()}


@pytest.fixture(scope="session")
def runs(demo_frames, tmp_path_factory) -> dict[str, dict[str, Any]]:
    """The four pipelines run one after the other, each on the previous ones' outputs."""
    params = tiny_params(tmp_path_factory.mktemp("wiring"))
    params["cv"] = changed(params["cv"], folds=FOLDS)
    raw = {
        "training_raw": demo_frames["training"],
        "test_raw": demo_frames["test"],
        "id_lookup_raw": demo_frames["IdLookupTable"],
    }
    results = {
        "data_engineering": run_in_memory(
            data_engineering.create_pipeline(folds=FOLDS), raw, params
        )
    }
    available = {**raw, **results["data_engineering"]}
    for name, package in (("modelling", modelling), ("predict", predict), ("reporting", reporting)):
        pipeline = package.create_pipeline(folds=FOLDS)
        inputs = {key: available[key] for key in pipeline.inputs() if not key.startswith("params:")}
        results[name] = run_in_memory(pipeline, inputs, params)
        available.update(results[name])
    return results
