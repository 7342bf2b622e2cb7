"""Where a dataset's file is: a local folder or any store fsspec reaches (``s3://``, ``gs://``,
``abfs://``, ``memory:///``), with what reaches it (credentials, fs_args), as kedro-datasets does."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from copy import deepcopy
from pathlib import Path, PurePosixPath
from typing import Any

import fsspec
from kedro.io import DatasetError
from kedro.io.core import Version, get_filepath_str, get_protocol_and_path

from facial_keypoints.domain.errors import InputDataError, first_line


class StoreError(InputDataError, DatasetError):
    """The store a dataset's file is on cannot be reached (credentials, network, bucket); a
    DatasetError, so Kedro passes it on unwrapped."""


def location_of(protocol: str, path: PurePosixPath | str) -> str:
    """``path`` of a store reached by ``protocol``, as a user writes it (``s3://bucket/key``,
    ``memory:///folder/key``)."""
    return str(path) if protocol == "file" else f"{protocol}://{path}"


class Stored:
    """Where a dataset's file is, for kedro-datasets' fsspec datasets and the project's own: the
    location a load reads (the latest version when versioned), and a local copy of it."""

    _protocol: str
    _fs: fsspec.AbstractFileSystem
    _filepath: PurePosixPath

    @contextlib.contextmanager
    def _reaching(self) -> Iterator[None]:
        """Turn a remote store's failure (credentials, network, no such bucket) into one line."""
        try:
            yield
        except (InputDataError, DatasetError):
            raise
        except Exception as exc:
            if self.is_local:
                raise
            where = location_of(self._protocol, self._filepath)
            raise StoreError(
                f"Cannot reach {where} ({first_line(exc)}). Check data_root and raw_root "
                "(globals.yml), their credentials (conf/local/credentials.yml) and, for an "
                "S3-compatible store, AWS_ENDPOINT_URL."
            ) from exc

    def _is_file(self, path: str | PurePosixPath) -> bool:
        """Whether ``path`` is a file of the store; a store that cannot be reached is one line
        (fsspec's own ``isfile`` would say False)."""
        with self._reaching():
            try:
                return self._fs.info(str(path))["type"] == "file"
            except FileNotFoundError:
                return False

    def _load_path(self) -> str:
        """The path a load reads, within its store (no protocol)."""
        return get_filepath_str(self._get_load_path(), self._protocol)  # type: ignore[attr-defined]

    @property
    def location(self) -> str:
        """The file a load reads: a local path, or a URL (``s3://bucket/key``)."""
        return location_of(self._protocol, self._load_path())

    @property
    def is_local(self) -> bool:
        """Whether the file is on this machine's disk."""
        return self._protocol == "file"

    @property
    def filepath(self) -> Path | str:
        """The file a load reads: a local path, or its URL on a remote store (kedro viz reads its
        size through fsspec)."""
        return Path(self._load_path()) if self.is_local else self.location

    @contextlib.contextmanager
    def local_file(self) -> Iterator[Path]:
        """The file a load reads, on this machine: itself, or a temporary copy of a remote one."""
        if self.is_local:
            yield Path(self._load_path())
            return
        with tempfile.TemporaryDirectory(prefix="facial_keypoints-") as folder:
            yield self.download(Path(folder))

    def download(self, folder: Path) -> Path:
        """Copy the file a load reads into ``folder``; the copy's path."""
        source = self._load_path()
        target = folder / PurePosixPath(source).name
        self._fs.get_file(source, str(target))
        return target

    def rename(self, name: str) -> str:
        """Rename the file a load reads to ``name``, in its folder; the new location."""
        source = self._load_path()
        target = str(PurePosixPath(source).with_name(name))
        self._fs.mv(source, target)
        return location_of(self._protocol, target)

    def pointed_at(self, path: Path) -> Any:
        """A copy of this dataset that reads the local file ``path`` (not a folder of versions)."""
        copy = deepcopy(self)
        copy._filepath = PurePosixPath(path.as_posix())
        copy._version = None  # type: ignore[attr-defined]
        copy._protocol = "file"
        copy._fs = fsspec.filesystem("file")
        return copy


def file_system(
    filepath: str,
    version: Version | None,
    credentials: dict[str, Any] | None,
    fs_args: dict[str, Any] | None,
) -> tuple[str, str, fsspec.AbstractFileSystem]:
    """The protocol, the path within the store and the file system of ``filepath``, as
    kedro-datasets makes them (``credentials`` and ``fs_args`` are fsspec's storage options)."""
    protocol, path = get_protocol_and_path(filepath, version)
    options = {**deepcopy(credentials or {}), **deepcopy(fs_args or {})}
    return protocol, path, fsspec.filesystem(protocol, **options)
