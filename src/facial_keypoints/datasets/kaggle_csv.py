"""Kaggle's raw CSV files, read as shipped: ``name.csv`` or the ``name.zip`` holding it, from a
local folder or any store fsspec reaches."""

from __future__ import annotations

import logging
import zipfile
from copy import deepcopy
from pathlib import PurePosixPath
from typing import Any, ClassVar

import pandas as pd
from kedro.io import AbstractDataset, DatasetError
from kedro_datasets._typing import TablePreview

from facial_keypoints.datasets.artefacts import once_written
from facial_keypoints.datasets.stores import Stored, file_system, location_of
from facial_keypoints.domain.errors import KAGGLE_DOWNLOAD_HINT, InputDataError

logger = logging.getLogger(__name__)


class RawFileError(InputDataError, DatasetError):
    """A raw file is missing or unreadable (a DatasetError, so Kedro passes it on unwrapped)."""


class KaggleCSVDataset(Stored, AbstractDataset[None, pd.DataFrame]):
    """Reads one of Kaggle's CSV files, from ``name.csv`` or from ``name.zip`` as Kaggle ships it.

    When both exist the unzipped ``.csv`` wins (it is what the user unpacked, perhaps edited).
    A missing or unreadable file stops the run with one message saying what is wrong and how to get
    the file. ``load_args`` go to ``pandas.read_csv``; ``credentials`` and ``fs_args`` to fsspec. The returned frame's ``attrs["source"]`` names
    the file read, for error messages. Raw files are never written.

    Example (``catalog.yml``)::

        training_raw:
          type: facial_keypoints.datasets.KaggleCSVDataset
          filepath: data/01_raw/training.csv
    """

    #: ``index_col=False``: a stray delimiter at the end of a line never shifts every column.
    DEFAULT_LOAD_ARGS: ClassVar[dict[str, Any]] = {"index_col": False}

    def __init__(
        self,
        *,
        filepath: str,
        load_args: dict[str, Any] | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Point the dataset at ``filepath`` (the ``.csv`` name; the ``.zip`` is looked up too)."""
        self._protocol, path, self._fs = file_system(filepath, None, credentials, fs_args)
        self._csv = PurePosixPath(path)
        self._zip = self._csv.with_suffix(".zip")
        self._filepath = self._csv
        self._load_args = {**deepcopy(self.DEFAULT_LOAD_ARGS), **(load_args or {})}
        self.metadata = metadata

    def _get_load_path(self) -> PurePosixPath:
        """The file that is read: the ``.csv`` if it exists, else the ``.zip``."""
        return self._zip if not self._is_file(self._csv) and self._is_file(self._zip) else self._csv

    def _where(self, path: PurePosixPath) -> str:
        return location_of(self._protocol, path)

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._where(self._csv), "load_args": self._load_args}

    def _exists(self) -> bool:
        return self._is_file(self._csv) or self._is_file(self._zip)

    def save(self, data: pd.DataFrame) -> None:
        """Raw files are read-only."""
        raise DatasetError(
            f"{self._where(self._csv)} is a raw input and is never written by the pipeline"
        )

    def load(self) -> pd.DataFrame:
        """Load the CSV (or the CSV inside the zip) into a DataFrame."""
        frame = self._read_file(self._load_args)
        logger.info("Read %d rows from %s", len(frame), frame.attrs["source"])
        return frame

    @once_written
    def preview(self, nrows: int = 5) -> TablePreview:
        """The first ``nrows`` rows, each image cut to its first pixels (for kedro viz)."""
        frame = self._read_file({**self._load_args, "nrows": nrows})
        if "Image" in frame:
            frame["Image"] = frame["Image"].str.slice(0, 24) + " ..."
        return TablePreview(frame.to_dict(orient="split"))

    def _read_file(self, load_args: dict[str, Any]) -> pd.DataFrame:
        csv, archive = self._where(self._csv), self._where(self._zip)
        if self._is_file(self._csv):
            with self._fs.open(str(self._csv), "rb") as handle:
                return self._read(handle, csv, load_args)
        if self._is_file(self._zip):
            return self._read_zip(load_args)
        raise RawFileError(
            f"{self._csv.name} not found: neither {csv} nor {archive} exists. "
            + KAGGLE_DOWNLOAD_HINT
        )

    def _read_zip(self, load_args: dict[str, Any]) -> pd.DataFrame:
        where = self._where(self._zip)
        source = f"{where} ({self._csv.name})"
        try:
            with (
                self._fs.open(str(self._zip), "rb") as handle,
                zipfile.ZipFile(handle) as archive,
            ):
                members = [
                    name
                    for name in archive.namelist()
                    if not name.endswith("/") and not name.startswith("__MACOSX")
                ]
                wanted = [name for name in members if PurePosixPath(name).name == self._csv.name]
                if len(wanted) != 1:
                    raise RawFileError(
                        f"{where} holds {members}, expected exactly one {self._csv.name}. "
                        f"Replace it with Kaggle's {self._zip.name}, or put {self._csv.name} "
                        f"itself in {self._where(self._csv.parent)}/."
                    )
                with archive.open(wanted[0]) as member:
                    return self._read(member, source, load_args)
        except zipfile.BadZipFile as exc:
            raise RawFileError(
                f"{where} is not a readable zip archive ({exc}); the download may be "
                f"truncated. Download it again. " + KAGGLE_DOWNLOAD_HINT
            ) from exc

    def _read(self, handle: Any, source: str, load_args: dict[str, Any]) -> pd.DataFrame:
        try:
            frame = pd.read_csv(handle, **load_args)
        except pd.errors.EmptyDataError as exc:
            raise RawFileError(
                f"{source} is empty; expected Kaggle's CSV with a header row"
            ) from exc
        except (pd.errors.ParserError, UnicodeDecodeError, EOFError, zipfile.BadZipFile) as exc:
            reason = " ".join(str(exc).split())  # pandas' message spans lines
            raise RawFileError(
                f"{source} cannot be read as CSV ({reason}); the file may be truncated or not "
                f"Kaggle's. Download it again."
            ) from exc
        frame.attrs["source"] = source
        return frame
