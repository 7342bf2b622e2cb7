"""The pipelines' artefacts, on the local disk or on any store fsspec reaches (``s3://``, ``gs://``,
``abfs://``, ``memory:///``), written all-or-nothing.

A local file is written to a temporary file beside it that is renamed into place; on an object
store a file is one upload, which the store makes visible whole or not at all. A run killed at any
moment leaves the previous file or the new one, never a truncated file that a later run would
trust. Every class takes ``load_args``/``save_args`` (merged over its ``DEFAULT_LOAD_ARGS``/
``DEFAULT_SAVE_ARGS``), ``versioned: true`` (Kedro's ``filepath/<version>/name`` layout),
``credentials`` and ``fs_args`` (fsspec's storage options) and ``metadata``, like kedro-datasets'
own. ``location`` is the file a load reads, ``local_file()`` a local copy of it.
"""

from __future__ import annotations

import functools
import inspect
import json
import tempfile
import zipfile
from collections.abc import Callable
from copy import deepcopy
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from kedro.io import AbstractDataset, DatasetError
from kedro.io.core import (
    AbstractVersionedDataset,
    Version,
    VersionNotFoundError,
    get_filepath_str,
)
from kedro_datasets._typing import JSONPreview
from kedro_datasets.json import JSONDataset
from kedro_datasets.matplotlib import MatplotlibDataset
from kedro_datasets.pandas import CSVDataset
from kedro_datasets.text import TextDataset
from kedro_datasets.yaml import YAMLDataset

from facial_keypoints.datasets.stores import Stored, file_system, location_of
from facial_keypoints.domain.artefacts import SCHEMAS
from facial_keypoints.domain.atomic import array_bytes, atomic_write
from facial_keypoints.domain.errors import InputDataError, first_line
from facial_keypoints.nn import register_custom_objects


class ArtefactError(InputDataError, DatasetError):
    """An artefact a node needs is missing or damaged; the message names it and how to rewrite it
    (a DatasetError, so Kedro passes it on unwrapped)."""


def once_written(preview: Callable[..., Any]) -> Callable[..., Any]:
    """``preview`` that shows nothing before the pipeline has written the file: kedro viz
    (``--include-previews``) then has no preview to show and no failure to warn about."""

    @functools.wraps(preview)  # kedro viz reads the preview's kind from its return annotation
    def shown_once_written(self: AbstractDataset, *args: Any, **kwargs: Any) -> Any:
        return preview(self, *args, **kwargs) if self.exists() else None

    return shown_once_written


class _Artefact:
    """What the project's artefact datasets share: Kedro records their real arguments, and a
    missing or damaged file is one clear error saying how to write it again."""

    #: How to write the file again, for the message about a missing or damaged one.
    REWRITE: ClassVar[str] = "Write it with `kedro run` (the pipeline that makes it)."

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A dataset class that defines no __init__ gets its parent's own one, not the wrapper Kedro
        # puts around it: Kedro records a dataset's arguments from its __init__ signature, and
        # through the wrapper they would be args/kwargs (not catalog YAML in `kedro catalog`).
        if issubclass(cls, AbstractDataset) and "__init__" not in vars(cls):
            cls.__init__ = inspect.unwrap(cls.__init__)  # type: ignore[misc]
        super().__init_subclass__(**kwargs)

    def _load_artefact(self, read: Callable[[], Any]) -> Any:
        """``read()`` the file a load reads; a missing or damaged one, or one that breaks the
        schema its catalog entry names (``metadata: {schema: <name>}``), is one ArtefactError."""
        with self._reaching():  # type: ignore[attr-defined]
            try:
                location = self.location  # type: ignore[attr-defined]
            except VersionNotFoundError as exc:
                where = location_of(self._protocol, self._filepath)  # type: ignore[attr-defined]
                raise ArtefactError(f"{where} has no saved version yet. {self.REWRITE}") from exc
            if not self._is_file(self._load_path()):  # type: ignore[attr-defined]
                raise ArtefactError(f"{location} does not exist yet. {self.REWRITE}")
        try:
            data = read()
        except Exception as exc:  # each reader has its own errors for a damaged file
            raise ArtefactError(
                f"{location} is damaged and cannot be read ({first_line(exc)}). {self.REWRITE}"
            ) from exc
        name = (getattr(self, "metadata", None) or {}).get("schema")
        if name is not None:
            schema = SCHEMAS[name]
            problem = schema.problem(data)
            if problem is not None:
                raise ArtefactError(
                    f"{location} {problem}. Write it again with `{schema.rewrite}`."
                )
        return data


class _AtomicSave(Stored, _Artefact):
    """``load`` and ``save`` for kedro-datasets' fsspec datasets: a missing or damaged file is one
    clear error; a local file is written beside its target and renamed into place, a remote one as
    the parent class does (one upload, atomic in an object store)."""

    def _write(self, data: Any, path: Path) -> None:
        raise NotImplementedError

    def load(self) -> Any:
        """The parent's load; a missing or damaged file is one clear error."""
        parent_load = super().load.__wrapped__  # type: ignore[misc]
        return self._load_artefact(lambda: parent_load(self))

    def save(self, data: Any) -> None:
        """Write ``data`` to a temporary file beside the target and rename it into place; on a
        remote store, upload it as the parent class does."""
        if not self.is_local:
            with self._reaching():
                super().save.__wrapped__(self, data)  # type: ignore[misc]
            return
        path = Path(get_filepath_str(self._get_save_path(), self._protocol))  # type: ignore[attr-defined]
        atomic_write(path, lambda tmp: self._write(data, tmp), suffix=path.suffix)
        self._invalidate_cache()  # type: ignore[attr-defined]


class AtomicCSVDataset(_AtomicSave, CSVDataset):
    """kedro-datasets' ``pandas.CSVDataset`` (no index column by default), saved atomically."""

    preview = once_written(CSVDataset.preview)

    def _write(self, data: pd.DataFrame, path: Path) -> None:
        data.to_csv(path, **self._save_args)


class AtomicJSONDataset(_AtomicSave, JSONDataset):
    """kedro-datasets' ``json.JSONDataset``, saved atomically (``save_args`` go to ``json.dump``)."""

    preview = once_written(JSONDataset.preview)

    def _write(self, data: Any, path: Path) -> None:
        path.write_text(json.dumps(data, **self._save_args))


class AtomicYAMLDataset(_AtomicSave, YAMLDataset):
    """kedro-datasets' ``yaml.YAMLDataset``, saved atomically (``save_args`` go to ``yaml.dump``)."""

    preview = once_written(YAMLDataset.preview)

    def _write(self, data: Any, path: Path) -> None:
        import yaml  # noqa: PLC0415 - as kedro-datasets imports it

        path.write_text(yaml.dump(data, **self._save_args))


class AtomicTextDataset(_AtomicSave, TextDataset):
    """kedro-datasets' ``text.TextDataset``, saved atomically."""

    def _write(self, data: str, path: Path) -> None:
        path.write_text(data)


class _VersionedFile(Stored, _Artefact, AbstractVersionedDataset[Any, Any]):
    """One file per version on any fsspec store, read by ``_read`` and written by ``_write`` on a
    local file; written atomically (renamed into place locally, one upload to a remote store)."""

    DEFAULT_LOAD_ARGS: ClassVar[dict[str, Any]] = {}
    DEFAULT_SAVE_ARGS: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        *,
        filepath: str,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        version: Version | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Store the data at ``filepath`` (a path or a URL); ``load_args``/``save_args`` over the
        class defaults; ``credentials`` and ``fs_args`` for fsspec."""
        self._protocol, path, self._fs = file_system(filepath, version, credentials, fs_args)
        super().__init__(
            filepath=PurePosixPath(path),
            version=version,
            exists_function=self._fs.exists,
            glob_function=self._fs.glob,
        )
        self._load_args = {**deepcopy(self.DEFAULT_LOAD_ARGS), **(load_args or {})}
        self._save_args = {**deepcopy(self.DEFAULT_SAVE_ARGS), **(save_args or {})}
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": self._filepath,
            "protocol": self._protocol,
            "load_args": self._load_args,
            "save_args": self._save_args,
            "version": self._version,
        }

    def _exists(self) -> bool:
        try:
            return self._is_file(self._load_path())
        except VersionNotFoundError:
            return False

    def _read(self, path: Path) -> Any:
        raise NotImplementedError

    def _write(self, data: Any, path: Path) -> None:
        raise NotImplementedError

    def load(self) -> Any:
        """Read the file; a missing or damaged one is one clear error saying how to write it again."""

        def read() -> Any:
            with self.local_file() as path:
                return self._read(path)

        return self._load_artefact(read)

    def _needs(self, data: Any) -> int:
        """About the bytes writing ``data`` takes (0: unknown)."""
        return 0

    def save(self, data: Any) -> None:
        """Write a local file beside the target and rename it into place, or upload a remote one
        whole."""
        path = get_filepath_str(self._get_save_path(), self._protocol)
        write = functools.partial(self._write, data)
        if self.is_local:
            atomic_write(path, write, suffix=Path(path).suffix, needs=self._needs(data))
            return
        with tempfile.TemporaryDirectory(prefix="facial_keypoints-") as folder:
            local = Path(folder) / PurePosixPath(path).name
            write(local)
            with self._reaching():
                self._fs.put_file(str(local), path)
        self._fs.invalidate_cache(get_filepath_str(self._filepath, self._protocol))


class NpzDataset(_VersionedFile):
    """A dict of NumPy arrays as one ``.npz`` file. ``load_args`` go to ``numpy.load`` (pickles
    stay off); ``save_args``: ``compressed: true`` for ``numpy.savez_compressed``."""

    DEFAULT_LOAD_ARGS: ClassVar[dict[str, Any]] = {"allow_pickle": False}
    DEFAULT_SAVE_ARGS: ClassVar[dict[str, Any]] = {"compressed": False}

    def _read(self, path: Path) -> dict[str, np.ndarray]:
        with np.load(path, **self._load_args) as archive:
            return {key: archive[key] for key in archive.files}

    def _write(self, data: dict[str, np.ndarray], path: Path) -> None:
        save = np.savez_compressed if self._save_args["compressed"] else np.savez
        save(path, **data)

    @once_written
    def preview(self) -> JSONPreview:
        """Each array's dtype and shape (for kedro viz)."""
        with self.local_file() as path, np.load(path, **self._load_args) as archive:
            shapes = {key: f"{archive[key].dtype} {archive[key].shape}" for key in archive.files}
        return JSONPreview(json.dumps(shapes))


class KerasModelDataset(_VersionedFile):
    """A Keras 3 model as a ``.keras`` file, on any backend (no TensorFlow needed).

    Unlike kedro-datasets' TensorFlowModelDataset it needs no TensorFlow, so the same catalog serves
    the ``gpu`` environment, whose machine runs Keras on JAX or PyTorch. ``load_args`` go to
    ``keras.saving.load_model`` (e.g. ``compile: false``), ``save_args`` to ``model.save``.
    """

    REWRITE: ClassVar[str] = (
        "Train the models with `kedro run --pipelines modelling` (or `kedro run` for everything)."
    )

    def _read(self, path: Path) -> Any:
        import keras  # noqa: PLC0415 - Keras only when a model is loaded

        if not zipfile.is_zipfile(path):  # Keras would call a truncated file "not found"
            raise ValueError("not a complete .keras (zip) archive")
        register_custom_objects()
        return keras.saving.load_model(path, **self._load_args)

    def _write(self, data: Any, path: Path) -> None:
        data.save(path, **self._save_args)

    def _needs(self, data: Any) -> int:
        optimizer = getattr(data, "optimizer", None)
        return array_bytes([*data.variables, *getattr(optimizer, "variables", [])])


class PlotDataset(Stored, MatplotlibDataset):
    """kedro-datasets' ``matplotlib.MatplotlibDataset``; kedro viz previews the picture once written."""

    preview = once_written(MatplotlibDataset.preview)
