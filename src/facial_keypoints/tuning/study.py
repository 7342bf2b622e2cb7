"""The shared study: opened from its storage by every worker, with the sampler, pruner and
heartbeat of ``tune``; each trial's values drawn from the search space; the results as a table, the
best values and plots.

Optuna is imported on first use, so that ``kedro`` commands that tune nothing start without it.
"""

from __future__ import annotations

import logging
import time
import warnings
from typing import TYPE_CHECKING, Any

import lazy_loader

from facial_keypoints.domain import nested
from facial_keypoints.domain.errors import InputDataError, first_line, mask_credentials
from facial_keypoints.domain.params import Choices, TuneParams, is_whole

if TYPE_CHECKING:
    import optuna
    import pandas as pd
    from matplotlib.figure import Figure
else:
    optuna = lazy_loader.load("optuna")
    pd = lazy_loader.load("pandas")

logger = logging.getLogger(__name__)

#: The study's user attribute naming the MLflow run its trials' runs are nested in.
PARENT_RUN = "mlflow_parent_run_id"
#: What a trial's value is, in the plots.
TARGET = "Out-of-fold RMSE (px)"
#: Complete trials before parameter importances mean anything (fANOVA compares trials).
IMPORTANCE_TRIALS = 2
#: The study's user attribute holding what its trials are scored on (folds, faces).
SETUP = "setup"
#: How long a worker that did not create the study waits for the creator's MLflow run id.
PARENT_WAIT_S = 10.0


class StudyUnavailable(InputDataError):
    """The study's storage cannot be opened; the message masks its credentials."""


class StudyMismatch(InputDataError):
    """A worker would score its trials on other folds or faces than the study's."""


def _sampler(tune: TuneParams) -> optuna.samplers.BaseSampler:
    settings = tune.sampler
    if settings.name == "random":
        return optuna.samplers.RandomSampler(seed=settings.seed)
    return optuna.samplers.TPESampler(
        seed=settings.seed, n_startup_trials=settings.n_startup_trials, constant_liar=True
    )


def _pruner(tune: TuneParams) -> optuna.pruners.BasePruner:
    settings = tune.pruner
    if settings.name == "none":
        return optuna.pruners.NopPruner()
    return optuna.pruners.MedianPruner(
        n_startup_trials=settings.n_startup_trials, n_warmup_steps=settings.n_warmup_steps
    )


def storage(tune: TuneParams) -> optuna.storages.RDBStorage:
    """The study's database, with heartbeats: a trial whose worker stopped beating is marked
    failed by the next worker that asks for a trial, and run again up to ``retry_failed`` times."""
    engine: dict[str, Any] = {}
    if tune.storage.startswith("sqlite:"):  # several processes write one file: wait, don't fail
        engine = {"connect_args": {"timeout": 60}}

    def opened() -> optuna.storages.RDBStorage:
        with warnings.catch_warnings():  # Optuna marks heartbeats experimental
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(
                tune.storage,
                engine_kwargs=engine,
                heartbeat_interval=tune.heartbeat_seconds,
                grace_period=2 * tune.heartbeat_seconds,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                    max_retry=tune.retry_failed
                ),
            )

    try:
        try:
            return opened()
        except Exception:  # two workers creating a new database's tables at once: one loses
            time.sleep(1)
            return opened()
    except Exception as exc:  # a driver missing, a server down, bad credentials
        raise StudyUnavailable(
            f"The study storage {mask_credentials(tune.storage)} cannot be opened "
            f"({mask_credentials(first_line(exc))}). Fix tune.storage in conf/ or --params (for "
            'PostgreSQL: pip install "psycopg[binary]" and a server every worker reaches).'
        ) from None


def open_study(
    tune: TuneParams, base: dict[str, Any], setup: dict[str, Any]
) -> tuple[optuna.Study, bool]:
    """The study ``tune.study_name``, created by the first worker (which queues the ``base``
    values as its first trial when ``enqueue_base``, and records ``setup``: what every trial must
    be scored on) and loaded by the others, which must bring the same ``setup``; and whether this
    worker created it."""
    shared = storage(tune)
    options = {
        "study_name": tune.study_name,
        "storage": shared,
        "sampler": _sampler(tune),
        "pruner": _pruner(tune),
    }
    try:  # the database decides which worker creates it: its study names are unique
        study = optuna.create_study(direction="minimize", **options)
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(**options)
        _check_setup(study, setup, tune)
        return study, False
    study.set_user_attr(SETUP, setup)
    if tune.enqueue_base:
        study.enqueue_trial(base, user_attrs={"base": True})
    return study, True


def _check_setup(study: optuna.Study, setup: dict[str, Any], tune: TuneParams) -> None:
    """Raise :class:`StudyMismatch` if the study's trials were scored on another setup."""
    recorded = study.user_attrs.get(SETUP)
    if recorded is None or recorded == setup:
        return
    differences = ", ".join(
        f"{key} {recorded.get(key)!r} there, {setup.get(key)!r} here"
        for key in sorted(set(recorded) | set(setup))
        if recorded.get(key) != setup.get(key)
    )
    raise StudyMismatch(
        f"The study {tune.study_name} in {mask_credentials(tune.storage)} scores its trials on "
        f"other folds or faces ({differences}). Run this worker with the same parameters and "
        "data, or start another study with --params tune.study_name=<new name>."
    )


def parent_run(study: optuna.Study, created: bool, own_run: str | None) -> str | None:
    """The MLflow run the study's trial runs are nested in: the run of the worker that created the
    study (recorded in the study), or ``own_run`` if that worker's run is not known in time; None
    when this worker is not tracked (``own_run`` None): it records nothing."""
    if own_run is None:
        return None
    if created:
        study.set_user_attr(PARENT_RUN, own_run)
        return own_run
    deadline = time.monotonic() + PARENT_WAIT_S
    while True:
        parent = study.user_attrs.get(PARENT_RUN)
        if parent is not None or time.monotonic() >= deadline:
            return parent or own_run
        time.sleep(0.5)


def base_values(tune: TuneParams, parameters: dict[str, Any]) -> dict[str, Any]:
    """The searched parameters' values in conf/ (the base trial); one that is not among its
    choices is left for the sampler (a range may not hold it: Optuna then warns and uses it)."""
    flat = nested.flatten(parameters)
    return {
        name: flat[name]
        for name, searched in tune.space.items()
        if not isinstance(searched, Choices) or flat[name] in searched.choices
    }


def suggest(trial: optuna.Trial, tune: TuneParams, base: dict[str, Any]) -> dict[str, Any]:
    """This trial's value of every searched parameter: whole numbers where conf/'s value
    (``base``, from :func:`base_values`, which holds every range's) is one."""
    values = {}
    for name, searched in tune.space.items():
        if isinstance(searched, Choices):
            values[name] = trial.suggest_categorical(name, searched.choices)
        elif is_whole(base[name]):
            values[name] = trial.suggest_int(
                name, int(searched.low), int(searched.high), log=searched.log
            )
        else:
            values[name] = trial.suggest_float(name, searched.low, searched.high, log=searched.log)
    return values


def trials_table(study: optuna.Study) -> pd.DataFrame:
    """One row per trial: number, state, value (the out-of-fold RMSE of a complete trial), each
    fold's RMSE, the searched values, seconds, the worker that ran it, whether it is the base."""
    rows = []
    for trial in study.get_trials(deepcopy=False):
        end = trial.datetime_complete
        seconds = (
            (end - trial.datetime_start).total_seconds() if end and trial.datetime_start else None
        )
        rows.append(
            {
                "number": trial.number,
                "state": trial.state.name,
                # Optuna gives a pruned trial its last fold's value: not an out-of-fold RMSE
                "value": trial.value if trial.state.name == "COMPLETE" else None,
                **{f"fold_{step}_rmse": value for step, value in trial.intermediate_values.items()},
                **trial.params,
                "seconds": seconds,
                "worker": trial.user_attrs.get("worker"),
                "base": bool(trial.user_attrs.get("base", False)),
            }
        )
    return pd.DataFrame(rows)


def best_values(study: optuna.Study) -> dict[str, Any]:
    """The best complete trial's values as a nested parameters block, ready for conf/local/."""
    return nested.unflatten(study.best_trial.params)


def has_complete_trial(study: optuna.Study) -> bool:
    """Whether any trial of the study completed (so a best one exists)."""
    states = (optuna.trial.TrialState.COMPLETE,)
    return bool(study.get_trials(deepcopy=False, states=states))


def history_figure(study: optuna.Study) -> Figure:
    """Optuna's optimization history: each trial's out-of-fold RMSE and the best so far."""
    return _figure(optuna.visualization.matplotlib.plot_optimization_history, study)


def importance_figure(study: optuna.Study) -> Figure:
    """Optuna's parameter importances (fANOVA over the complete trials), or a note while fewer
    than two trials completed."""
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(complete) < IMPORTANCE_TRIALS:
        from matplotlib.figure import Figure  # noqa: PLC0415

        figure = Figure(figsize=(9, 5))
        figure.text(
            0.5,
            0.5,
            f"Importances need {IMPORTANCE_TRIALS} complete trials; the study has {len(complete)}.",
            ha="center",
        )
        return figure
    return _figure(optuna.visualization.matplotlib.plot_param_importances, study)


def _figure(plot: Any, study: optuna.Study) -> Figure:
    with warnings.catch_warnings():  # Optuna marks its matplotlib plots experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        axes = plot(study, target_name=TARGET)
    figure = axes.figure
    figure.set_size_inches(9, 5)
    figure.tight_layout()
    return figure


def summary(trials: pd.DataFrame, best: dict[str, Any], tune: TuneParams, best_path: str) -> str:
    """What a study's worker prints at its end: the trials' states, the best against the base,
    and how to train with the best values or watch the study."""
    states = trials["state"].value_counts()
    counts = ", ".join(
        f"{states.get(state, 0)} {word}"
        for state, word in (("COMPLETE", "complete"), ("PRUNED", "pruned"), ("FAIL", "failed"))
    )
    storage = mask_credentials(tune.storage)
    lines = [f"Study {tune.study_name} ({storage}): {len(trials)} trials, {counts}."]
    complete = trials[trials["state"] == "COMPLETE"]
    if complete.empty:
        return "\n".join(lines)
    top = complete.loc[complete["value"].idxmin()]
    base = complete[complete["base"]]
    versus = (
        f" (base, trial {base['number'].iloc[0]}: {base['value'].iloc[0]:.4f})" if len(base) else ""
    )
    flat = ",".join(f"{key}={value}" for key, value in nested.flatten(best).items())
    lines += [
        f"Best: trial {top['number']}, out-of-fold RMSE {top['value']:.4f}{versus}.",
        f"Train with it: copy {best_path} to conf/local/parameters_best.yml, or",
        f'  kedro run --params "{flat}"',
        f"Watch the study: optuna-dashboard {storage}",
    ]
    return "\n".join(lines)
