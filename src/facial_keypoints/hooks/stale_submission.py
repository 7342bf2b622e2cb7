"""The previous submission moved aside while a run that writes a new one is under way."""

from __future__ import annotations

import logging
from pathlib import PurePosixPath
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline

from facial_keypoints.domain.storage import shown

logger = logging.getLogger(__name__)


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
        dataset = catalog.get("submission")
        if dataset.exists():
            path = PurePosixPath(dataset.location)
            previous = dataset.rename(f"{path.stem}.previous{path.suffix}")
            logger.info(
                "Moved the previous submission to %s until this run writes a new one",
                shown(previous),
            )
