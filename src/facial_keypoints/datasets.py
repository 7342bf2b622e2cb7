"""Custom Kedro datasets: Kaggle's raw CSVs (zipped or not), and atomically written artefacts.

Every artefact the pipelines write goes to a temporary file that is renamed into place, so a run
killed at any moment never leaves a truncated file that a later run would trust.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
from kedro.io import AbstractDataset, DatasetError

from facial_keypoints.errors import KAGGLE_DOWNLOAD_HINT, RawFileError

logger = logging.getLogger(__name__)


def atomic_write(path: Path, write: Any, suffix: str = "") -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{suffix}")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp creates files readable by their owner only
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class KaggleCSVDataset(AbstractDataset[None, pd.DataFrame]):
    """Reads one of Kaggle's CSV files, from ``name.csv`` or from ``name.zip`` as Kaggle ships it.

    When both exist the unzipped ``.csv`` wins (it is what the user unpacked, perhaps edited).
    A missing file stops the run with a message saying how to get it. With ``demo`` set, a missing
    file is instead generated, with all the other demo files, by :mod:`facial_keypoints.demo`.
    The returned frame's ``attrs["source"]`` names the file read, for error messages.
    """

    def __init__(
        self,
        filepath: str,
        load_args: dict[str, Any] | None = None,
        demo: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Point the dataset at ``filepath`` (the ``.csv`` name; the ``.zip`` is looked up too)."""
        self._csv = Path(filepath)
        self._zip = self._csv.with_suffix(".zip")
        self._load_args = dict(load_args or {})
        self._demo = demo
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._csv), "zip": str(self._zip), "demo": self._demo}

    def _exists(self) -> bool:
        return self._csv.is_file() or self._zip.is_file()

    def save(self, data: pd.DataFrame) -> None:
        """Raw files are read-only."""
        raise DatasetError(f"{self._csv} is a raw input and is never written by the pipeline")

    def load(self) -> pd.DataFrame:
        """Load the CSV (or the CSV inside the zip) into a DataFrame."""
        if not self._exists() and self._demo is not None:
            from facial_keypoints.demo import write_demo_files  # noqa: PLC0415

            logger.info("Generating demo data in %s", self._csv.parent)
            write_demo_files(self._csv.parent, **self._demo)
        if self._csv.is_file():
            frame = self._read(self._csv, str(self._csv))
        elif self._zip.is_file():
            frame = self._read_zip()
        else:
            raise RawFileError(
                f"{self._csv.name} not found: neither {self._csv} nor {self._zip} exists. "
                + KAGGLE_DOWNLOAD_HINT
            )
        logger.info("Read %d rows from %s", len(frame), frame.attrs["source"])
        return frame

    def _read_zip(self) -> pd.DataFrame:
        source = f"{self._zip} ({self._csv.name})"
        try:
            with zipfile.ZipFile(self._zip) as archive:
                members = [
                    name
                    for name in archive.namelist()
                    if not name.endswith("/") and not name.startswith("__MACOSX")
                ]
                wanted = [name for name in members if PurePosixPath(name).name == self._csv.name]
                if len(wanted) != 1:
                    raise RawFileError(
                        f"{self._zip} holds {members}, expected exactly one {self._csv.name}. "
                        f"Replace it with Kaggle's {self._zip.name}, or put {self._csv.name} "
                        f"itself in {self._csv.parent}/."
                    )
                with archive.open(wanted[0]) as handle:
                    return self._read(handle, source)
        except zipfile.BadZipFile as exc:
            raise RawFileError(
                f"{self._zip} is not a readable zip archive ({exc}); the download may be "
                f"truncated. Download it again. " + KAGGLE_DOWNLOAD_HINT
            ) from exc

    def _read(self, handle: Any, source: str) -> pd.DataFrame:
        try:
            frame = pd.read_csv(handle, **self._load_args)
        except pd.errors.EmptyDataError as exc:
            raise RawFileError(f"{source} is empty; expected Kaggle's CSV with a header row") from exc
        except (pd.errors.ParserError, UnicodeDecodeError, EOFError, zipfile.BadZipFile) as exc:
            raise RawFileError(
                f"{source} cannot be read as CSV ({exc}); the file may be truncated or not "
                f"Kaggle's. Download it again."
            ) from exc
        frame.attrs["source"] = source
        return frame


class _LocalFileDataset(AbstractDataset[Any, Any]):
    """A dataset stored as one local file at ``filepath``, written atomically by its ``save``."""

    def __init__(
        self,
        filepath: str,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Store the data at ``filepath``; ``load_args``/``save_args`` go to the reader/writer."""
        self._filepath = Path(filepath)
        self._load_args = dict(load_args or {})
        self._save_args = dict(save_args or {})
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}

    def _exists(self) -> bool:
        return self._filepath.is_file()


class AtomicCSVDataset(_LocalFileDataset):
    """A pandas DataFrame as a CSV file (no index column by default), written atomically."""

    def load(self) -> pd.DataFrame:
        """Read the CSV."""
        return pd.read_csv(self._filepath, **self._load_args)

    def save(self, data: pd.DataFrame) -> None:
        """Write the CSV to a temporary file, then move it into place."""
        atomic_write(self._filepath, lambda tmp: data.to_csv(tmp, **{"index": False, **self._save_args}))


class AtomicJSONDataset(_LocalFileDataset):
    """JSON-serialisable data as a ``.json`` file (``save_args`` go to ``json.dumps``), written atomically."""

    def load(self) -> Any:
        """Parse the JSON file."""
        return json.loads(self._filepath.read_text())

    def save(self, data: Any) -> None:
        """Write the JSON to a temporary file, then move it into place."""
        atomic_write(self._filepath, lambda tmp: tmp.write_text(json.dumps(data, **self._save_args)))


class NpzDataset(_LocalFileDataset):
    """A dict of NumPy arrays stored as one uncompressed ``.npz`` file, written atomically."""

    def load(self) -> dict[str, np.ndarray]:
        """Load every array of the archive into memory."""
        with np.load(self._filepath, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}

    def save(self, data: dict[str, np.ndarray]) -> None:
        """Write the arrays to a temporary file, then move it into place."""
        atomic_write(self._filepath, lambda tmp: np.savez(tmp, **data), suffix=".npz")


class KerasModelDataset(_LocalFileDataset):
    """A Keras 3 model as a ``.keras`` file, on any backend (no TensorFlow needed), written atomically.

    Unlike kedro-datasets' TensorFlowModelDataset it needs no TensorFlow, so the same catalog serves
    the ``gpu`` environment, whose machine runs Keras on JAX or PyTorch.
    """

    def load(self) -> Any:
        """Load the model (custom layers and losses are registered by the modelling package)."""
        import keras  # noqa: PLC0415

        import facial_keypoints.pipelines.modelling.training  # noqa: F401, PLC0415  registers objects

        return keras.saving.load_model(self._filepath)

    def save(self, data: Any) -> None:
        """Save the model to a temporary ``.keras`` file, then move it into place."""
        atomic_write(self._filepath, data.save, suffix=".keras")
