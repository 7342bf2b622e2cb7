"""Project pipelines: every package under ``pipelines/`` (as ``kedro pipeline create`` makes them),
plus ``submission``, all of them together.

The modelling and predict pipelines have one namespace per cross-validation fold, so their shape
depends on the parameter ``cv.folds``. Kedro calls ``register_pipelines()`` without arguments, caches
what it returns for the whole process, and does so before, after or without loading configuration
depending on the command (kedro-org/kedro#3093, #2627). Routes that were weighed:

- a hook (``after_context_created``) setting the fold count: ``kedro viz`` runs without hooks unless
  asked, and ``kedro registry`` creates no context, so both drew one fold;
- the command line's ``--env``/``--params``: sessions made in code (kedro-viz, notebooks, a
  packaged project, tests) have none;
- the configuration loader (chosen): every entry point that creates a session builds its
  configuration with ``settings.CONFIG_LOADER_CLASS`` from the session's conf source, environment
  and runtime parameters before it asks for a pipeline. :class:`ProjectConfigLoader` is that class;
  each one created becomes the configuration the pipelines are built from, and clears Kedro's cache
  so that the next session of a process gets its own folds. Commands that create no session
  (``kedro registry``) get what a new session would load: ``conf/`` with ``KEDRO_ENV`` (or local).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from pathlib import Path
from typing import Any

from kedro.config import AbstractConfigLoader, OmegaConfigLoader
from kedro.framework.project import pipelines as project_pipelines
from kedro.framework.project import settings
from kedro.pipeline import Pipeline
from kedro.utils import find_kedro_project

from facial_keypoints import pipelines as pipelines_package
from facial_keypoints.domain.params import check_block
from facial_keypoints.pipelines import tune
from facial_keypoints.pipelines.predict.pipeline import SERVING_INPUT, create_serving_pipeline
from facial_keypoints.serving.training import served

#: What the modelling pipeline reads from data_engineering (a study prepares it, then tunes).
_PREPARED = {"training_clean", "folds", "flip_convention"}

#: The configuration the pipelines are built from: the latest ProjectConfigLoader created.
_configuration: dict[str, AbstractConfigLoader] = {}


class ProjectConfigLoader(OmegaConfigLoader):
    """Kedro's ``OmegaConfigLoader``; the project's pipelines follow the latest one created."""

    def __init__(self, conf_source: str, *args: Any, **kwargs: Any) -> None:
        """Load configuration as Kedro does, then have Kedro build the pipelines again from it."""
        super().__init__(conf_source, *args, **kwargs)
        _configuration["latest"] = self
        project_pipelines.configure(__name__)


def _new_session_configuration() -> AbstractConfigLoader:
    """The configuration a session created now from the current folder would load."""
    project = find_kedro_project(Path.cwd()) or Path.cwd()
    return OmegaConfigLoader(
        str(project / settings.CONF_SOURCE),
        env=os.getenv("KEDRO_ENV"),
        **settings.CONFIG_LOADER_ARGS,
    )


def configured_folds() -> int:
    """``cv.folds`` of the configuration being used (conf source, environment, runtime params)."""
    configuration = _configuration.get("latest")
    if configuration is None:  # not `or`: a config loader is a mapping, empty until read
        configuration = _new_session_configuration()
    return check_block(configuration["parameters"], "cv").folds


#: Pipeline packages built from other pipelines, by the registry: ``tune`` trains each trial with
#: the modelling pipeline. Not part of ``submission``.
COMPOSED = {"tune"}


def discover_pipelines(**kwargs: int) -> dict[str, Pipeline]:
    """``create_pipeline(**kwargs)`` of every pipeline package but the composed ones, by name.

    Like Kedro's ``find_pipelines()``, but always all of them: ``submission`` needs every pipeline
    even when ``kedro run --pipelines submission`` asks Kedro's discovery for that name alone.
    """
    return {
        module.name: importlib.import_module(
            f"{pipelines_package.__name__}.{module.name}"
        ).create_pipeline(**kwargs)
        for module in pkgutil.iter_modules(pipelines_package.__path__)
        if module.ispkg and module.name not in COMPOSED
    }


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines, with as many fold namespaces as ``cv.folds`` asks for.

    ``submission`` (the default) runs everything a submission needs: parse, train, report, predict,
    write. ``tune`` runs an Optuna study whose trials each train as ``modelling`` does, on the
    current training data (not part of ``submission``). ``predict`` re-uses the models already
    trained, but always parses the current test.csv and IdLookupTable.csv first (cheap), so its
    CSV never answers an older test set. The tracked
    runs of ``submission`` and ``modelling`` log what they trained as one MLflow model, which
    answers a table of faces as ``predict`` answers test.csv (:mod:`facial_keypoints.serving`).
    """
    folds = configured_folds()
    pipelines = discover_pipelines(folds=folds)
    pipelines["submission"] = sum(pipelines.values(), Pipeline([]))
    current_test = pipelines["data_engineering"].to_outputs("test_faces", "id_lookup")
    pipelines["predict"] = current_test + pipelines["predict"]
    trial = pipelines["modelling"]
    pipelines["tune"] = pipelines["data_engineering"].to_outputs(*trial.inputs() & _PREPARED) + (
        tune.create_pipeline(folds=folds, trial=trial)
    )
    inference = create_serving_pipeline(folds=folds)
    for name in ("modelling", "submission"):
        pipelines[name] = served(pipelines[name], inference, SERVING_INPUT)
    pipelines["__default__"] = pipelines["submission"]
    return pipelines
