"""Demo faces generated before a run of an environment that asks for them (``conf/demo``)."""

from __future__ import annotations

import logging
import tempfile
from typing import Any

import fsspec
from kedro.config import MissingConfigException
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl

from facial_keypoints.domain.storage import is_url

logger = logging.getLogger(__name__)


class DemoDataHook:
    """In an environment with a ``demo`` config (``conf/demo/demo.yml``), generate Kaggle-format
    demo files into its ``folder`` (a folder, or a URL reached with the ``raw_root`` credentials)
    before a run when they are missing, so no download is needed."""

    def __init__(self) -> None:
        """No demo settings until a context is created."""
        self._settings: dict[str, Any] | None = None
        self._storage_options: dict[str, Any] = {}

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        """Remember the environment's demo settings, if it has any, and what reaches its folder."""
        try:
            self._settings = dict(context.config_loader["demo"])
        except MissingConfigException:
            self._settings = None
            return
        credentials = context.config_loader.get("credentials") or {}
        self._storage_options = dict(credentials.get("raw_root") or {})

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        """Write the demo files if the raw folder (a folder or a URL) lacks training data."""
        if not self._settings:
            return
        settings = dict(self._settings)
        folder = str(settings.pop("folder"))
        store, root = fsspec.core.url_to_fs(folder, **self._storage_options)
        if any(store.isfile(f"{root}/{name}") for name in ("training.csv", "training.zip")):
            return
        from facial_keypoints.arrays.synthetic import write_demo_files  # noqa: PLC0415

        logger.info("Generating demo data in %s", folder)
        if not is_url(folder):
            write_demo_files(folder, **settings)
            return
        with tempfile.TemporaryDirectory(prefix="facial_keypoints-") as local:
            for path in write_demo_files(local, **settings):
                store.put_file(str(path), f"{root}/{path.name}")
