"""Project hooks: what a user needs to read at the end of a run."""

from __future__ import annotations

import os
from typing import Any

import click
from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline


class SubmissionSummaryHook:
    """After a run that wrote the submission: its validation RMSE, path and the upload command."""

    @hook_impl
    def after_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        """Print the summary when the run produced ``submission``."""
        if "submission" not in pipeline.all_outputs():
            return
        path = os.path.relpath(catalog.get("submission")._describe()["filepath"])
        rmse = catalog.load("combination")["val_rmse"]
        rows = len(catalog.load("submission"))
        click.echo(
            f"\nValidation RMSE of the final combination: {rmse:.4f} px\n"
            f"Submission: {path} ({rows} rows)\n"
            f"Upload it with:\n  kaggle competitions submit -c facial-keypoints-detection "
            f'-f {path} -m "facial-keypoints, validation RMSE {rmse:.4f}"'
        )
