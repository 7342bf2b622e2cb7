"""Project pipelines: every package under ``pipelines/`` (as ``kedro pipeline create`` makes them),
plus ``submission``, all of them together.

The modelling and predict pipelines have one namespace per cross-validation fold, so their shape
depends on the parameter ``cv.folds``, which Kedro does not hand to ``register_pipelines``: a hook
reads it (conf/ and ``--params``) as soon as a run's context exists, before Kedro asks for the
pipelines, and calls :func:`use_folds`. Commands that create no context (``kedro registry list``)
show one fold.
"""

from __future__ import annotations

import importlib
import pkgutil

from kedro.framework.project import pipelines as project_pipelines
from kedro.pipeline import Pipeline

from facial_keypoints import pipelines as pipelines_package

_folds = {"folds": 1}


def use_folds(folds: int) -> None:
    """Build the pipelines with ``folds`` fold namespaces from now on."""
    if folds != _folds["folds"]:
        _folds["folds"] = folds
        project_pipelines.configure(__name__)  # Kedro registers the pipelines again when next asked


def discover_pipelines(**kwargs: int) -> dict[str, Pipeline]:
    """``create_pipeline(**kwargs)`` of every pipeline package, by package name.

    Like Kedro's ``find_pipelines()``, but always all of them: ``submission`` needs every pipeline
    even when ``kedro run --pipelines submission`` asks Kedro's discovery for that name alone.
    """
    return {
        module.name: importlib.import_module(
            f"{pipelines_package.__name__}.{module.name}"
        ).create_pipeline(**kwargs)
        for module in pkgutil.iter_modules(pipelines_package.__path__)
        if module.ispkg
    }


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    ``submission`` (the default) runs everything a submission needs: parse, train, report, predict,
    write. ``predict`` re-uses the models already trained, but always parses the current test.csv
    and IdLookupTable.csv first (cheap), so its CSV never answers an older test set.
    """
    pipelines = discover_pipelines(folds=_folds["folds"])
    pipelines["submission"] = sum(pipelines.values(), Pipeline([]))
    current_test = pipelines["data_engineering"].to_outputs("test_faces", "id_lookup")
    pipelines["predict"] = current_test + pipelines["predict"]
    pipelines["__default__"] = pipelines["submission"]
    return pipelines
