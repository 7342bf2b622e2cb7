"""Each trial of a study as an MLflow run nested in the study's run: its values, each fold's RMSE,
its out-of-fold RMSE, state and duration.

A trial's run is written once the trial ends, with the trial's own start and end times. Like every
record of the kit, a failure to write it is a warning, never a failed trial.
"""

from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING

from facial_keypoints.domain.errors import first_line, mask_credentials

if TYPE_CHECKING:
    import optuna

logger = logging.getLogger(__name__)

#: MLflow's run status for each final state of a trial.
_STATUS = {"COMPLETE": "FINISHED", "PRUNED": "KILLED", "FAIL": "FAILED"}


def active_run_id() -> str | None:
    """The MLflow run open in this thread (the ``kedro run``'s), if any."""
    import mlflow  # noqa: PLC0415 - only when a study runs

    run = mlflow.active_run()
    return run.info.run_id if run is not None else None


def known_run(run_id: str | None, fallback: str | None) -> str | None:
    """``run_id`` if this worker's tracking store has it (workers on other machines may track in
    stores of their own), else ``fallback``."""
    if run_id is None or run_id == fallback:
        return run_id
    import mlflow  # noqa: PLC0415

    try:
        mlflow.MlflowClient().get_run(run_id)
    except Exception:  # not in this store (or the store failed: the worker's own run is safer)
        return fallback
    return run_id


def tag_active_run(tags: dict[str, str]) -> None:
    """Tag this worker's own run with the study (and the run its trials are nested in)."""
    import mlflow  # noqa: PLC0415

    try:
        mlflow.set_tags({key: value for key, value in tags.items() if key != "mlflow.parentRunId"})
        mlflow.set_tag("optuna.trials_in", tags["mlflow.parentRunId"])
    except Exception as exc:  # as for a trial's run: a warning
        logger.warning("MLflow did not tag the run with the study (%s).", first_line(exc))


class TrialRuns:
    """An Optuna callback: after each trial of this worker, its MLflow run under ``parent``."""

    def __init__(self, parent: str, study_name: str, storage: str) -> None:
        """Nest the trials' runs in the run ``parent``, tagged with the study's name and storage."""
        self.parent = parent
        self.recorded: set[int] = set()
        self._experiment: str | None = None  # the parent's, asked of the store once
        self.tags = {
            "mlflow.parentRunId": parent,
            "optuna.study": study_name,
            "optuna.storage": mask_credentials(storage),
            "optuna.worker": socket.gethostname(),
        }

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        """Record ``trial`` (once); a failure is a warning."""
        if trial.number in self.recorded:
            return
        self.recorded.add(trial.number)
        try:
            self._record(trial)
        except Exception as exc:  # the store refused or went away: the study goes on
            logger.warning(
                "MLflow did not record trial %d (%s); the study has it.",
                trial.number,
                mask_credentials(first_line(exc)),
            )

    def _record(self, trial: optuna.trial.FrozenTrial) -> None:
        import mlflow  # noqa: PLC0415
        from mlflow.entities import Metric, Param, RunTag  # noqa: PLC0415

        client = mlflow.MlflowClient()
        if self._experiment is None:
            self._experiment = client.get_run(self.parent).info.experiment_id
        start = int(trial.datetime_start.timestamp() * 1000)
        end = int(trial.datetime_complete.timestamp() * 1000)
        state = trial.state.name
        tags = {**self.tags, "optuna.trial": str(trial.number), "optuna.state": state.lower()}
        if trial.user_attrs.get("base"):
            tags["optuna.base"] = "true"
        run = client.create_run(
            self._experiment, start_time=start, tags=tags, run_name=f"trial_{trial.number}"
        )
        metrics = [
            Metric("fold_rmse", value, end, step)
            for step, value in trial.intermediate_values.items()
        ]
        if state == "COMPLETE":  # a pruned trial's value is its last fold's
            metrics.append(Metric("oof_rmse", trial.value, end, 0))
        metrics.append(Metric("seconds", (end - start) / 1000, end, 0))
        client.log_batch(
            run.info.run_id,
            metrics=metrics,
            params=[Param(name, str(value)) for name, value in trial.params.items()],
            tags=[RunTag("mlflow.runName", f"trial_{trial.number}")],
        )
        client.set_terminated(run.info.run_id, status=_STATUS.get(state, "FAILED"), end_time=end)
