"""Where files live: a local folder, or a store that fsspec reaches by URL (s3://, gs://, abfs://,
memory://). The project's datasets read and write through fsspec; what must stay on the machine
that works (checkpoints, temporary files) goes to a local folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import fsspec
from fsspec.core import split_protocol
from fsspec.registry import known_implementations

from facial_keypoints.domain.errors import InputDataError


def is_url(location: str | Path) -> bool:
    """Whether ``location`` names a store other than the local disk (``s3://bucket/key``)."""
    protocol, _ = split_protocol(str(location))
    return protocol not in (None, "file", "local")


def shown(location: str) -> str:
    """``location`` as a run prints it: relative to the current folder, or its URL."""
    return location if is_url(location) else os.path.relpath(location)


def local_folder(location: str | Path) -> Path:
    """``location`` itself when it is a local folder; for a URL, a folder of this machine's
    temporary directory named after it, so that work which must stay local (a training's
    checkpoints) still resumes on the same machine."""
    if not is_url(location):
        return Path(location)
    protocol, path = split_protocol(str(location))
    return Path(tempfile.gettempdir()) / "facial_keypoints" / str(protocol) / path.lstrip("/")


def check_store(name: str, location: str | Path) -> None:
    """Stop with one line when the store of ``location`` (the global ``name``) needs a package
    that is not installed, before a run starts rather than at its first file."""
    if not is_url(location):
        return
    protocol, _ = split_protocol(str(location))
    try:
        fsspec.get_filesystem_class(protocol)
    except (ImportError, ValueError) as exc:
        # fsspec's registry names the class of each protocol it knows, in its package
        known = known_implementations.get(str(protocol), {}).get("class", "")
        package = known.split(".")[0]
        fix = (
            f"Install it with `pip install {package}`" if package else "Install its fsspec package"
        )
        raise InputDataError(
            f"Global {name} = {location}: fsspec cannot reach {protocol}:// here ({exc}). "
            f"{fix}, or point {name} (conf/local/globals.yml) at a folder."
        ) from exc
