"""What a user reads at the end of a run: the metrics table, the submission and how to upload it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline

from facial_keypoints.domain import kaggle_client
from facial_keypoints.domain.storage import shown
from facial_keypoints.domain.versions import folder_bytes
from facial_keypoints.hooks.run_guard import RunGuardHook
from facial_keypoints.hooks.tracking import TrackingHook
from facial_keypoints.tuning import study


class RunSummaryHook:
    """After a run: the metrics table if it reported, and the submission's path and upload command."""

    def __init__(self, tracking_hook: TrackingHook, guard: RunGuardHook | None = None) -> None:
        """Name the MLflow run of ``tracking_hook`` next to the submission, and the disk use of
        the data folder ``guard`` holds."""
        self._tracking, self._guard = tracking_hook, guard
        self._started = time.time()

    @hook_impl
    def before_pipeline_run(self) -> None:
        """Note when the run started: what it wrote is newer."""
        self._started = time.time()

    @hook_impl
    def after_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        """Print what the run produced, and what it took of the disk."""
        self._report(pipeline, catalog)
        data_root = self._guard.data_root if self._guard is not None else None
        if data_root is not None and data_root.is_dir():
            click.echo(disk_line(data_root, self._started))

    def _report(self, pipeline: Pipeline, catalog: DataCatalog) -> None:
        outputs = pipeline.all_outputs()
        if "metrics_table" in outputs:
            click.echo(
                f"\nOut-of-fold metrics ({_path(catalog, 'metrics')}):\n"
                + catalog.load("metrics_table")
            )
        if "best_params" in outputs:
            trials, best = catalog.load("tune_trials"), catalog.load("best_params")
            tune = catalog.load("params:tune")
            click.echo("\n" + study.summary(trials, best, tune, _path(catalog, "best_params")))
        if "submission" in outputs:
            path = _path(catalog, "submission")
            rmse = catalog.load("combination")["oof_rmse"]
            report = catalog.load("metrics") if catalog.exists("metrics") else {"oof_rmse": rmse}
            rows = len(catalog.load("submission"))
            kaggle = catalog.load("params:kaggle")
            message = kaggle_client.submission_message(kaggle.message, rmse)
            run = self._tracking.open_run_id
            kept = f", kept in MLflow run {run}" if run else ""
            click.echo(
                f"\n{estimate_line(report)}\n"
                f"Submission: {path} ({rows} rows{kept})\n"
                f"Upload it with:\n  kaggle competitions submit -c {kaggle_client.COMPETITION} "
                f'-f {path} -m "{message}"'
            )
            if run and self._tracking.rebuild:
                click.echo(f"Rebuild it from the same models:\n  {self._tracking.rebuild}")


def disk_line(data_root: Path, since: float) -> str:
    """What a run wrote under ``data_root`` (files changed since ``since``), and all it holds."""
    total, written = folder_bytes(data_root, since)
    return (
        f"Disk: this run wrote {written / 2**20:.0f} MB in {data_root}, which holds "
        f"{total / 2**20:.0f} MB; `python -m facial_keypoints.tools.prune` deletes the model "
        "versions that retention (conf/base/parameters_retention.yml) does not keep."
    )


def estimate_line(metrics: dict[str, Any]) -> str:
    """How well the submission is expected to score, and on whose faces (metrics.json's estimate)."""
    estimate = metrics.get("estimate")
    if estimate is None:  # no report, or one written before the estimate existed
        return f"Out-of-fold RMSE of the final combination: {metrics['oof_rmse']:.4f} px"
    whose = "unseen people" if estimate["unseen_people"] else "faces of people also in training"
    return f"Estimated RMSE of this submission on {whose}: {estimate['rmse']:.4f} px"


def _path(catalog: DataCatalog, name: str) -> str:
    """Where a file dataset lives: relative to the current folder, or its URL."""
    return shown(catalog.get(name).location)
