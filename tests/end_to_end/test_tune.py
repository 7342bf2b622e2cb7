"""The tune pipeline's workers through `kedro run --pipelines tune`: two processes share one study
(on SQLite, and on a real PostgreSQL server when pgserver is installed), and a worker killed
mid-trial loses nothing: its trial is marked failed and run again by the next worker."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import mlflow
import optuna
import pytest
import sqlalchemy

from tests.end_to_end.conftest import one_specialist, output, start_run

pytestmark = pytest.mark.slow

QUICK = "full_model.epochs=1,specialists.epochs=1,training.verbose=0"
STUDY = "shared"


@pytest.fixture
def postgresql(tmp_path):
    """A real PostgreSQL server for this test (pgserver's binaries), as a SQLAlchemy URL."""
    pgserver = pytest.importorskip("pgserver")
    pytest.importorskip("psycopg")
    server = pgserver.get_server(tmp_path / "pg", cleanup_mode="stop")
    yield f"postgresql+psycopg://postgres:@/postgres?host={server.pgdata}"
    server.cleanup()


def tune_conf(project: Path, storage: str, **settings: object) -> None:
    """The demo study of ``project``: on ``storage``, a learning rate searched, ``settings`` on top."""
    one_specialist(project, "demo")
    lines = [
        f"  study_name: {STUDY}",
        f"  storage: '{storage}'",
        "  sampler: {name: random, seed: null, n_startup_trials: 0}",
        "  pruner: {name: none, n_startup_trials: 0, n_warmup_steps: 0}",
        "  space: {full_model: {optimizer: {learning_rate: {low: 0.001, high: 0.004, log: true}}}}",
        *(f"  {key}: {value}" for key, value in settings.items()),
    ]
    (project / "conf" / "demo" / "parameters_tune.yml").write_text("\n".join(["tune:", *lines]))


def created(storage: str) -> bool:
    """Whether a worker has created the study at ``storage`` (its data prepared), read without
    creating the storage's tables: a second process creating them at once would race the worker."""
    if storage.startswith("sqlite:///") and not Path(storage.removeprefix("sqlite:///")).exists():
        return False
    engine = sqlalchemy.create_engine(storage)
    try:
        with engine.connect() as connection:
            names = connection.execute(sqlalchemy.text("SELECT study_name FROM studies"))
            return STUDY in names.scalars().all()
    except sqlalchemy.exc.SQLAlchemyError:  # no tables yet, or being created
        return False
    finally:
        engine.dispose()


def training(storage: str) -> bool:
    """Whether a trial of the study at ``storage`` is running with its values drawn (training)."""
    if not created(storage):
        return False
    running = optuna.load_study(study_name=STUDY, storage=storage).get_trials(
        states=(optuna.trial.TrialState.RUNNING,)
    )
    return any(trial.params for trial in running)


def mlflow_runs(store: str) -> list:
    """Every MLflow run of the store at ``store``."""
    client = mlflow.MlflowClient(store)
    experiments = [experiment.experiment_id for experiment in client.search_experiments()]
    return client.search_runs(experiments)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_workers_share_one_study_and_its_mlflow_run(
    project, own_mlflow_store, backend, request
):
    storage = (
        f"sqlite:///{project}/study.db" if backend == "sqlite" else request.getfixturevalue(backend)
    )
    tune_conf(project, storage, n_trials=2)
    mlflow.MlflowClient(own_mlflow_store).search_experiments()  # its tables, made by one process
    args = ("--env", "demo", "--pipelines", "tune", "--params", QUICK)
    first = start_run(project, *args, log="worker_0.log")
    deadline = time.monotonic() + 300  # the second once the first has prepared the data
    while not created(storage):
        assert time.monotonic() < deadline and first.poll() is None, output(
            project, first, "worker_0.log"
        )
        time.sleep(0.5)
    workers = [first, start_run(project, *args, log="worker_1.log")]
    for i, worker in enumerate(workers):
        printed = output(project, worker, f"worker_{i}.log")
        assert worker.returncode == 0, printed[-3000:]

    trials = optuna.load_study(study_name=STUDY, storage=storage).trials
    assert [trial.number for trial in trials] == [0, 1, 2, 3]  # n_trials each, none twice
    assert {trial.state for trial in trials} == {optuna.trial.TrialState.COMPLETE}
    assert sum(bool(trial.user_attrs.get("base")) for trial in trials) == 1
    by_worker = [trial.user_attrs["worker"] for trial in trials]
    assert sorted(by_worker.count(worker) for worker in set(by_worker)) == [2, 2]

    runs = mlflow_runs(own_mlflow_store)
    kedro_runs = [run for run in runs if "optuna.trial" not in run.data.tags]
    trial_runs = [run for run in runs if "optuna.trial" in run.data.tags]
    assert len(kedro_runs) == 2 and len(trial_runs) == 4
    parents = {run.data.tags["mlflow.parentRunId"] for run in trial_runs}
    assert len(parents) == 1 and parents <= {run.info.run_id for run in kedro_runs}
    assert {run.data.tags["optuna.trials_in"] for run in kedro_runs} == parents
    assert sorted(int(run.data.tags["optuna.trial"]) for run in trial_runs) == [0, 1, 2, 3]
    for run in trial_runs:
        assert run.info.status == "FINISHED" and run.data.tags["optuna.state"] == "complete"
        assert set(run.data.metrics) == {"fold_rmse", "oof_rmse", "seconds"}
        assert "full_model.optimizer.learning_rate" in run.data.params
    assert "password" not in str([run.data.params.get("tune.storage") for run in kedro_runs])


def test_a_worker_killed_mid_trial_loses_nothing(project, own_mlflow_store):
    storage = f"sqlite:///{project}/study.db"
    tune_conf(project, storage, n_trials=1, heartbeat_seconds=1, retry_failed=1)
    args = ("--env", "demo", "--pipelines", "tune", "--params")
    killed = start_run(project, *args, f"{QUICK},full_model.epochs=50", log="killed.log")
    deadline = time.monotonic() + 300
    while not training(storage):
        assert time.monotonic() < deadline and killed.poll() is None, output(
            project, killed, "killed.log"
        )
        time.sleep(0.5)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait(timeout=60)
    time.sleep(3)  # the trial's heartbeat is older than the grace period (2 x 1 s)

    survivor = start_run(project, *args, QUICK, log="survivor.log")
    printed = output(project, survivor, "survivor.log")
    assert survivor.returncode == 0, printed[-3000:]
    first, retried = optuna.load_study(study_name=STUDY, storage=storage).trials
    assert first.state == optuna.trial.TrialState.FAIL
    assert retried.state == optuna.trial.TrialState.COMPLETE
    assert retried.params == first.params and retried.system_attrs["failed_trial"] == 0
