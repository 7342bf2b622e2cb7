"""Project hooks: parameters checked before anything runs, demo files generated when missing, and
what a user needs to read at the end of a run."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import click
from kedro.config import MissingConfigException
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline

from facial_keypoints import kaggle_api
from facial_keypoints.params import check_parameters
from facial_keypoints.pipeline_registry import use_folds
from facial_keypoints.pipelines.reporting.nodes import format_metrics

logger = logging.getLogger(__name__)


class ParameterCheckHook:
    """Every parameter block checked as soon as the configuration is loaded, before any node runs;
    with ``kaggle.submit`` on, the kaggle package and credentials too (not after a whole run)."""

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        """Raise one clear error for the first parameter that is not allowed; shape the pipelines."""
        params = check_parameters(context.config_loader["parameters"])
        use_folds(params["cv"].folds)
        if params["kaggle"].submit:
            try:
                kaggle_api.check_ready()
            except kaggle_api.KaggleUnavailable as exc:
                raise kaggle_api.KaggleUnavailable(
                    f"kaggle.submit is true, but {exc} Or run without --params kaggle.submit=true."
                ) from None


class DemoDataHook:
    """In an environment with a ``demo`` config (``conf/demo/demo.yml``), generate Kaggle-format
    demo files into its ``folder`` before a run when they are missing, so no download is needed."""

    def __init__(self) -> None:
        """No demo settings until a context is created."""
        self._settings: dict[str, Any] | None = None

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        """Remember the environment's demo settings, if it has any."""
        try:
            self._settings = dict(context.config_loader["demo"])
        except MissingConfigException:
            self._settings = None

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        """Write the demo files if the raw folder lacks training data."""
        if not self._settings:
            return
        settings = dict(self._settings)
        folder = Path(settings.pop("folder"))
        if not any((folder / name).is_file() for name in ("training.csv", "training.zip")):
            from facial_keypoints.data.synthetic import write_demo_files  # noqa: PLC0415 - demo only

            logger.info("Generating demo data in %s", folder)
            write_demo_files(folder, **settings)


class StaleSubmissionHook:
    """Before a run that writes the submission, move the previous CSV aside: if the run then fails
    or is killed, no ``submission.csv`` is left that could be uploaded for test files it was not
    made for. A successful run writes a new one."""

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        """Rename submission.csv to submission.previous.csv."""
        if "submission" not in pipeline.all_outputs():
            return
        path = catalog.get("submission").filepath
        if path.is_file():
            previous = path.with_name(f"{path.stem}.previous{path.suffix}")
            path.replace(previous)
            logger.info(
                "Moved the previous submission to %s until this run writes a new one",
                os.path.relpath(previous),
            )


class RunSummaryHook:
    """After a run: the metrics table if it reported, and the submission's path and upload command."""

    @hook_impl
    def after_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        """Print what the run produced."""
        outputs = pipeline.all_outputs()
        if "metrics" in outputs:
            click.echo(
                f"\nOut-of-fold metrics ({_path(catalog, 'metrics')}):\n"
                + format_metrics(catalog.load("metrics"))
            )
        if "submission" in outputs:
            path = _path(catalog, "submission")
            rmse = catalog.load("combination")["oof_rmse"]
            rows = len(catalog.load("submission"))
            message = kaggle_api.submission_message(catalog.load("params:kaggle").message, rmse)
            click.echo(
                f"\nOut-of-fold RMSE of the final combination: {rmse:.4f} px\n"
                f"Submission: {path} ({rows} rows)\n"
                f"Upload it with:\n  kaggle competitions submit -c {kaggle_api.COMPETITION} "
                f'-f {path} -m "{message}"'
            )


def _path(catalog: DataCatalog, name: str) -> str:
    """Where a file dataset lives, relative to the current folder."""
    return os.path.relpath(catalog.get(name).filepath)
