"""The served model: kedro-mlflow's ``KedroPipelineModel`` of the inference pipeline, with the
artefacts of one run, logged in that run and registered.

What kedro-mlflow's own hook does at the end of a run, changed where this kit needs it:

- the artefacts are the files at the versions the run used (``filepath``: the version it wrote, or
  the one it read), not the dataset's folder of every version, and the Keras models are shipped
  without their optimizer's state;
- the package ships with the model (``code_paths``; it is not on a package index) and every
  dependency it declares is pinned at the version that trained;
- each request runs the inference pipeline's nodes on the objects loaded once, and a request the
  pipeline refuses (:class:`~facial_keypoints.domain.errors.RequestError`) is answered 400 with
  its message.
"""

from __future__ import annotations

import copy
import importlib.metadata
import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
from kedro.io import DataCatalog
from kedro_mlflow.mlflow import KedroPipelineModel
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.types import ColSpec, Schema
from packaging.requirements import Requirement  # MLflow's own dependency

import facial_keypoints
from facial_keypoints import logs, nn
from facial_keypoints.domain.errors import RequestError
from facial_keypoints.domain.keypoints import COLUMNS, IMAGE_COLUMN
from facial_keypoints.domain.params import check_block
from facial_keypoints.serving.training import MODEL_FOLDER

if TYPE_CHECKING:
    from kedro_mlflow.pipeline.pipeline_ml import PipelineML
    from mlflow.entities.model_registry import ModelVersion
    from mlflow.models.model import ModelInfo

    from facial_keypoints.domain.params import ServingParams

logger = logging.getLogger(__name__)

#: A table with one face per row in, its 30 keypoints (Kaggle's column names, pixels) out.
SIGNATURE = ModelSignature(
    inputs=Schema([ColSpec("string", IMAGE_COLUMN)]),
    outputs=Schema([ColSpec("double", column) for column in COLUMNS]),
)
#: The alias that ``promote`` moves.
BEST = "best"
#: Model version tags: the estimate, and what it may be compared with.
RMSE_TAG, BASIS_TAG = "estimate.oof_rmse", "estimate.basis"


class KeypointsModel(KedroPipelineModel):
    """The inference pipeline with one run's models, combination, flip convention and parameters."""

    def extract_pipeline_artifacts(
        self, parameters_saving_folder: Path | None = None
    ) -> dict[str, str]:
        """The run's files by dataset name, at the versions it used (Keras models without their
        optimizer's state, written to ``parameters_saving_folder``); parameters as pickles."""
        artifacts = super().extract_pipeline_artifacts(parameters_saving_folder)
        for name in artifacts:
            if name.startswith("params:"):
                continue
            dataset = self.initial_catalog.get(name)
            if dataset.is_local:
                path = dataset.filepath.resolve()
            else:  # the model ships its files: a copy of each remote one
                folder = parameters_saving_folder or Path(tempfile.mkdtemp())
                path = dataset.download(folder)
            if path.suffix == ".keras" and parameters_saving_folder is not None:
                inference = parameters_saving_folder / f"{name}{path.suffix}"
                nn.inference.save_for_inference(str(path), str(inference))
                path = inference
            artifacts[name] = path.as_uri()
        return artifacts

    def load_context(self, context: Any) -> None:
        """Load every artefact once, from the files shipped in the model; parameters typed."""
        self._loaded: dict[str, Any] = {}
        for name in context.artifacts:
            dataset = self.initial_catalog.get(name)
            if name.startswith("params:"):  # the value travels inside the pickled catalog
                block = name.removeprefix("params:")
                value = copy.deepcopy(dataset).load()
                self._loaded[name] = (
                    check_block({block: value}, block) if isinstance(value, dict) else value
                )
                continue
            # the shipped file itself, not the store or folder of versions it came from
            self._loaded[name] = dataset.pointed_at(Path(context.artifacts[name])).load()

    # No type hints on predict: MLflow would try to infer a signature from them and say it cannot.
    def predict(self, context, model_input, params=None):
        """The 30 keypoints of each face of ``model_input``; a request the pipeline refuses is an
        MLflow error the scoring server answers 400.

        The nodes run in order on the objects loaded once: Kedro's runner would log every node of
        every request, and kedro-mlflow copies every loaded object, Keras models included.
        """
        data = {**self._loaded, self.input_name: model_input}
        try:
            with logs.inner_node_lines_dropped():  # a line per node, per request, is noise
                for node in self.pipeline.nodes:  # in topological order
                    data.update(node.run({name: data[name] for name in node.inputs}))
        except RequestError as exc:
            raise MlflowException(str(exc), INVALID_PARAMETER_VALUE) from None
        return data[self.output_name]


def requirements() -> list[str]:
    """Every dependency of the package, pinned at its installed version, and the Keras backend's."""
    declared = map(Requirement, importlib.metadata.requires(facial_keypoints.__name__) or [])
    names = {  # not the extras' (dev, pictures)
        requirement.name
        for requirement in declared
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""})
    }
    backend = nn.devices.backend()
    names |= {"jax", "jaxlib"} if backend == "jax" else {backend}
    pinned = []
    for name in sorted(names, key=str.lower):
        try:
            pinned.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return pinned


def log_served_model(
    pipeline: PipelineML, catalog: DataCatalog, serving: ServingParams, basis: str
) -> str:
    """Log ``pipeline``'s inference with the artefacts of this run as one MLflow model in the
    active run, register it under ``serving.model_name`` and tag the version with its estimate;
    the version."""
    model = KeypointsModel(pipeline.inference, catalog, pipeline.input_name)
    with tempfile.TemporaryDirectory() as folder:
        info: ModelInfo = mlflow.pyfunc.log_model(
            name=pipeline.log_model_kwargs.get("name", MODEL_FOLDER),
            python_model=model,
            artifacts=model.extract_pipeline_artifacts(Path(folder)),
            signature=SIGNATURE,
            code_paths=[str(Path(facial_keypoints.__file__).parent)],
            pip_requirements=requirements(),
            registered_model_name=serving.model_name,
            metadata={
                "facial_keypoints_version": facial_keypoints.__version__,
                "keras_backend": nn.devices.backend(),
            },
        )
    client = mlflow.MlflowClient()
    version = str(info.registered_model_version)
    rmse = catalog.load("combination")["oof_rmse"]
    for key, value in ((RMSE_TAG, f"{rmse:.6f}"), (BASIS_TAG, basis)):
        client.set_model_version_tag(serving.model_name, version, key, value)
    logger.info(
        "Registered the served model models:/%s/%s (estimate %.4f px): serve it with `mlflow models "
        "serve -m models:/%s/%s --env-manager local`",
        serving.model_name,
        version,
        rmse,
        serving.model_name,
        version,
    )
    return version


def best_version(name: str, basis: str) -> ModelVersion | None:
    """The version of ``name`` with the lowest estimate among those of the same ``basis``."""
    client = mlflow.MlflowClient()
    versions = [
        version
        for version in client.search_model_versions(f"name = '{name}'", max_results=10000)
        if version.tags.get(BASIS_TAG) == basis and RMSE_TAG in version.tags
    ]
    return min(versions, key=lambda version: float(version.tags[RMSE_TAG]), default=None)


def move_alias(name: str, version: str, alias: str = BEST) -> None:
    """Point ``models:/<name>@<alias>`` at ``version``."""
    mlflow.MlflowClient().set_registered_model_alias(name, alias, version)
