"""Project hooks: what a user needs to read at the end of a run."""

from __future__ import annotations

import os
from typing import Any

import click
from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline

from facial_keypoints import kaggle
from facial_keypoints.pipelines.reporting.nodes import format_metrics


def _path(catalog: DataCatalog, name: str) -> str:
    """Where a file dataset lives, relative to the current folder."""
    return os.path.relpath(catalog.get(name)._describe()["filepath"])


def _upload(path: str, message: str) -> None:
    """Submit to Kaggle, or say exactly what is missing (the CSV stays written either way)."""
    try:
        kaggle.submit(path, message)
    except kaggle.KaggleUnavailable as exc:
        click.echo(f"Not uploaded: {exc}")
    else:
        click.echo(f"Uploaded {path} to Kaggle: see your submissions page for the score.")


class RunSummaryHook:
    """After a run: the metrics table if it reported, and the submission's path and upload command."""

    @hook_impl
    def after_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        """Print what the run produced."""
        outputs = pipeline.all_outputs()
        if "metrics" in outputs:
            click.echo(f"\nValidation metrics ({_path(catalog, 'metrics')}):\n"
                       + format_metrics(catalog.load("metrics")))
        if "submission" in outputs:
            path = _path(catalog, "submission")
            rmse = catalog.load("combination")["val_rmse"]
            rows = len(catalog.load("submission"))
            message = f"facial-keypoints, validation RMSE {rmse:.4f}"
            click.echo(
                f"\nValidation RMSE of the final combination: {rmse:.4f} px\n"
                f"Submission: {path} ({rows} rows)\n"
                f"Upload it with:\n  kaggle competitions submit -c {kaggle.COMPETITION} "
                f'-f {path} -m "{message}"'
            )
            if catalog.load("params:submit"):
                _upload(path, message)
