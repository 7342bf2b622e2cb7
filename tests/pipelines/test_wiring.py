"""Each pipeline runs in memory (SequentialRunner, MemoryDatasets, tiny data), like Kedro's starters'
tests: inputs and parameters go in through the catalog, and every declared output comes out."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline
from kedro.runner import SequentialRunner

from facial_keypoints.domain.keypoints import COLUMNS, SPECIALIST_GROUPS
from facial_keypoints.pipelines import data_engineering, modelling, predict, reporting
from facial_keypoints.pipelines.catalog_names import specialist_dataset
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


@pytest.fixture(scope="module")
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


def test_data_engineering_wiring(runs, demo_frames):
    out = runs["data_engineering"]
    assert set(out) == {
        "training_faces",
        "test_faces",
        "id_lookup",
        "training_clean",
        "folds",
        "flip_convention",
        "train_faces_augmented",
    }
    assert sorted(set(out["folds"]["fold"])) == list(range(FOLDS))
    assert len(out["folds"]) == len(demo_frames["training"])
    assert out["test_faces"]["images"].shape == (len(demo_frames["test"]), 96, 96)


def test_modelling_wiring(runs, demo_frames):
    out = runs["modelling"]
    per_fold = {
        "full_model",
        "full_model_training_summary",
        "train_faces",
        "validation_faces",
        *(specialist_dataset(group) for group in SPECIALIST_GROUPS),
        *(f"{group}_specialist_training" for group in SPECIALIST_GROUPS),
    }
    assert set(out) == {
        "oof_predictions",
        "oof_combination",
        "training_summaries",
        "combination",
        *(f"fold_{k}.{name}" for k in range(FOLDS) for name in per_fold),
        *(
            f"fold_{k}_{name}"
            for k in range(FOLDS)
            for name in ("validation_predictions", "training_summaries")
        ),
    }
    assert out["fold_1.full_model"].output_shape == (None, len(COLUMNS))
    assert sorted(out["oof_predictions"]["ids"]) == list(range(1, len(demo_frames["training"]) + 1))
    assert out["combination"]["specialists"] == sorted(SPECIALIST_GROUPS)
    assert out["combination"]["folds"] == FOLDS


def test_predict_wiring(runs, demo_frames):
    submission = runs["predict"]["submission"]
    assert submission["RowId"].tolist() == demo_frames["IdLookupTable"]["RowId"].tolist()
    assert np.isfinite(submission["Location"]).all()
    folds = runs["predict"]["test_fold_predictions"]["folds"]
    assert folds.shape == (FOLDS, len(demo_frames["test"]), len(COLUMNS))
    average = runs["predict"]["test_predictions"][list(COLUMNS)].to_numpy()
    np.testing.assert_allclose(average, folds.mean(axis=0), rtol=1e-6)


def test_reporting_wiring(runs):
    out = runs["reporting"]
    assert {
        "metrics",
        "metrics_table",
        "tracked_metrics",
        "loss_curves_plot",
        "keypoint_rmse_plot",
        "fold_rmse_plot",
        "oof_faces_plot",
        "test_faces_plot",
    } == set(out)
    assert out["metrics"]["per_model"]["mean_baseline"]["oof_rmse"] > 0
    assert list(out["metrics"]["per_fold"]) == [f"fold_{k}" for k in range(FOLDS)]
    assert "final_combination" in out["metrics_table"]
    assert out["tracked_metrics"]["oof_rmse"]["value"] == out["metrics"]["oof_rmse"]
    assert out["loss_curves_plot"].axes
