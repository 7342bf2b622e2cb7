"""Project pipelines: every package under ``pipelines/`` (as ``kedro pipeline create`` makes them),
plus ``submission``, all of them together."""

from __future__ import annotations

import importlib
import pkgutil

from kedro.pipeline import Pipeline

from facial_keypoints import pipelines as pipelines_package


def discover_pipelines() -> dict[str, Pipeline]:
    """``create_pipeline()`` of every pipeline package, by package name.

    Like Kedro's ``find_pipelines()``, but always all of them: ``submission`` needs every pipeline
    even when ``kedro run --pipelines submission`` asks Kedro's discovery for that name alone.
    """
    return {
        module.name: importlib.import_module(
            f"{pipelines_package.__name__}.{module.name}"
        ).create_pipeline()
        for module in pkgutil.iter_modules(pipelines_package.__path__)
        if module.ispkg
    }


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    ``submission`` (the default) runs everything a submission needs: parse, train, report, predict,
    write. ``predict`` re-uses the models already trained, but always parses the current test.csv
    and IdLookupTable.csv first (cheap), so its CSV never answers an older test set.
    """
    pipelines = discover_pipelines()
    pipelines["submission"] = sum(pipelines.values(), Pipeline([]))
    current_test = pipelines["data_engineering"].to_outputs("test_faces", "id_lookup")
    pipelines["predict"] = current_test + pipelines["predict"]
    pipelines["__default__"] = pipelines["submission"]
    return pipelines
