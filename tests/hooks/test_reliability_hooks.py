"""The run guard's lock, and what the tracking hook does when MLflow fails mid-run."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import mlflow
import pytest

from facial_keypoints.hooks.parameters import ParameterCheckHook
from facial_keypoints.hooks.run_guard import ProjectBusyError, RunGuardHook
from facial_keypoints.hooks.tracking import TrackingHook


def guard_of(data_root) -> RunGuardHook:
    guard = RunGuardHook()
    guard._data_root = data_root
    return guard


def test_a_data_folder_is_held_by_one_run_at_a_time(tmp_path):
    first, second = guard_of(tmp_path), guard_of(tmp_path)
    first.before_pipeline_run(run_params={})
    first.note(mlflow_run="bold-fox-123 (abc)")
    with pytest.raises(ProjectBusyError, match=r"MLflow run bold-fox-123 \(abc\), process \d+"):
        second.before_pipeline_run(run_params={})
    first.after_pipeline_run()
    second.before_pipeline_run(run_params={})  # free again
    second.on_pipeline_error()
    guard_of(tmp_path / "other").before_pipeline_run(run_params={})  # another environment's


@pytest.fixture
def tracked_run(own_mlflow_store):
    """A tracking hook whose run is open in a store of its own."""
    mlflow.set_tracking_uri(own_mlflow_store)
    client = mlflow.MlflowClient()
    run = client.create_run(client.create_experiment("reliability"))
    hook = TrackingHook(ParameterCheckHook())
    hook._lifecycle = SimpleNamespace(run_id=run.info.run_id)
    yield hook, run.info.run_id
    mlflow.set_tracking_uri(None)


def test_what_mlflow_cannot_record_is_a_warning_retried_at_the_end(tracked_run, caplog):
    hook, run_id = tracked_run
    attempts = []

    def locked_once():
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("(sqlite3.OperationalError) database is locked")

    with caplog.at_level(logging.WARNING):
        hook._record("the history of fold_0.full_model", locked_once)
    assert "could not record the history of fold_0.full_model" in caplog.text
    hook._retry_unrecorded()
    assert len(attempts) == 2 and hook._unrecorded == []


def test_a_run_missing_part_of_its_record_ends_failed_saying_what(tracked_run, caplog):
    hook, run_id = tracked_run

    def gone():
        raise RuntimeError("database is locked")

    hook._record("the history of fold_0.full_model", gone)
    with caplog.at_level(logging.WARNING):
        hook._retry_unrecorded()
    assert "is missing the history of fold_0.full_model" in caplog.text
    hook._end_failed(run_id)
    run = mlflow.MlflowClient().get_run(run_id)
    assert run.info.status == "FAILED"
    assert run.data.tags["error"] == "not recorded in MLflow: the history of fold_0.full_model"
