"""Demo faces generated before a run of an environment that asks for them (``conf/demo``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kedro.config import MissingConfigException
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)


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
            from facial_keypoints.arrays.synthetic import write_demo_files  # noqa: PLC0415

            logger.info("Generating demo data in %s", folder)
            write_demo_files(folder, **settings)
