"""Nodes of the tune pipeline: this worker's trials of the shared study, each one the modelling
pipeline run fold by fold on the trial's parameters; then what a user acts on (the best values as
YAML and as ``--params``, the trials table, plots).

The modelling pipeline is handed in by the registry (pipelines never import each other), and runs
in memory: a trial writes no model, only a row of the study.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import lazy_loader
import numpy as np
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline
from kedro.runner import SequentialRunner

from facial_keypoints import logs
from facial_keypoints.arrays import stacking
from facial_keypoints.domain import nested
from facial_keypoints.domain.faces import Faces, by_ids, rmse
from facial_keypoints.domain.params import SEARCHABLE, TuneParams, check_block
from facial_keypoints.pipelines.catalog_names import fold_namespace, fold_output
from facial_keypoints.tuning import records
from facial_keypoints.tuning import study as studies

if TYPE_CHECKING:
    import optuna
    import pandas as pd
else:
    optuna = lazy_loader.load("optuna")
    pd = lazy_loader.load("pandas")

#: An Optuna study and a matplotlib figure, named for the nodes' type hints: Kedro and kedro-viz
#: read those hints, and Optuna and matplotlib are imported when a node runs, not then.
Study = Any
Figure = Any

logger = logging.getLogger(__name__)


def _run_in_memory(pipeline: Pipeline, data: dict[str, Any]) -> dict[str, Any]:
    """Run ``pipeline`` on ``data`` held in memory (shared, not copied); its outputs' data."""
    catalog = DataCatalog(
        {name: MemoryDataset(value, copy_mode="assign") for name, value in data.items()}
    )
    for name in pipeline.all_outputs() - pipeline.outputs():
        catalog[name] = MemoryDataset(copy_mode="assign")
    with logs.inner_node_lines_dropped():  # the trial logs its folds
        outputs = SequentialRunner().run(pipeline, catalog)
    return {name: dataset.load() for name, dataset in outputs.items()}


def _trial_parameters(
    parameters: dict[str, Any], values: dict[str, Any], checkpoints: Path
) -> dict[str, Any]:
    """The checked blocks a trial trains with: conf/ with the trial's values, checkpoints apart."""
    changes = nested.unflatten({**values, "training.checkpoint_dir": str(checkpoints)})
    raw = nested.merged(parameters, changes)
    return {f"params:{block}": check_block(raw, block) for block in (*SEARCHABLE, "cv")}


def _fold_rmse(predictions: dict[str, np.ndarray], faces: Faces, flip_tta: bool | str) -> float:
    """One fold's out-of-fold RMSE, its models averaged without fitted weights."""
    truth = by_ids(faces, predictions["ids"])["keypoints"]
    return rmse(stacking.unfitted(stacking.views_of(predictions), flip_tta), truth)


def study_runner(trial_pipeline: Pipeline, folds: int) -> Callable[..., Any]:
    """The node function that runs this worker's trials, each ``trial_pipeline`` (modelling) fold
    by fold, pruned after any fold."""
    fold_parts = [
        trial_pipeline.only_nodes_with_namespaces([fold_namespace(k)]) for k in range(folds)
    ]
    combine = trial_pipeline.only_nodes(
        *(node.name for node in trial_pipeline.nodes if node.namespace is None)
    )

    def run_study(
        training_clean: Faces,
        folds_table: pd.DataFrame,
        flip_convention: dict[str, Any],
        parameters: dict[str, Any],
        tune: TuneParams,
    ) -> tuple[Study, pd.DataFrame]:
        """Run this worker's trials of the shared study; every trial of the study as a table."""
        parameters = nested.plain(parameters)  # Kedro hands the typed blocks in as models
        setup = {**parameters["cv"], "faces": len(training_clean["ids"])}
        base = studies.base_values(tune, parameters)
        study, created = studies.open_study(tune, base, setup)
        worker = f"{socket.gethostname()}:{os.getpid()}"
        checkpoints = Path(parameters["training"]["checkpoint_dir"]) / "tune" / tune.study_name

        def objective(trial: optuna.Trial) -> float:
            trial.set_user_attr("worker", worker)
            values = studies.suggest(trial, tune, base)
            where = checkpoints / f"trial_{trial.number}"
            data = {
                "training_clean": training_clean,
                "folds": folds_table,
                "flip_convention": flip_convention,
                **_trial_parameters(parameters, values, where),
            }
            flip_tta = data["params:combination"].flip_tta
            try:
                for k, part in enumerate(fold_parts):
                    data.update(_run_in_memory(part, data))
                    score = _fold_rmse(
                        data[fold_output(k, "validation_predictions")], training_clean, flip_tta
                    )
                    trial.report(score, k)
                    logger.info(
                        "Trial %d, fold %d/%d: RMSE %.4f", trial.number, k + 1, folds, score
                    )
                    if trial.should_prune():
                        raise optuna.TrialPruned(f"fold {k} RMSE {score:.4f}")
                combination = _run_in_memory(combine, data)["combination"]
            finally:
                shutil.rmtree(where, ignore_errors=True)
            logger.info("Trial %d: out-of-fold RMSE %.4f", trial.number, combination["oof_rmse"])
            return combination["oof_rmse"]

        callbacks = []
        own_run = records.active_run_id()
        parent = records.known_run(studies.parent_run(study, created, own_run), own_run)
        if parent is not None:
            callbacks.append(records.TrialRuns(parent, tune.study_name, tune.storage))
            records.tag_active_run(callbacks[0].tags)
        try:
            study.optimize(
                objective,
                n_trials=tune.n_trials,
                timeout=tune.timeout,
                callbacks=callbacks,
                gc_after_trial=True,
            )
        except BaseException:  # Optuna marked the trial failed, and calls no callback for it
            failed = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.FAIL,))
            for callback in callbacks:
                for trial in failed:
                    if trial.user_attrs.get("worker") == worker:
                        callback(study, trial)
            raise
        return study, studies.trials_table(study)

    run_study.__name__ = run_study.__qualname__ = "run_study"
    return run_study


def best_parameters(study: Study) -> dict[str, Any]:
    """The best trial's values as parameter blocks, ready for conf/local/ (empty if none completed)."""
    if not studies.has_complete_trial(study):
        logger.warning("No trial of the study completed yet: best_params.yml is empty.")
        return {}
    return studies.best_values(study)


def plot_history(study: Study) -> Figure:
    """Each trial's out-of-fold RMSE and the best so far (Optuna's optimization history)."""
    return studies.history_figure(study)


def plot_importances(study: Study) -> Figure:
    """How much each searched parameter mattered (Optuna's fANOVA importances)."""
    return studies.importance_figure(study)
