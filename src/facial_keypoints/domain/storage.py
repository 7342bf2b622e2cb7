"""Where files live: a local folder, or a store that fsspec reaches by URL (s3://, gs://, abfs://,
memory://). The project's datasets read and write through fsspec; what must stay on the machine
that works (checkpoints, temporary files) goes to a local folder."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fsspec.core import split_protocol


def is_url(location: str | Path) -> bool:
    """Whether ``location`` names a store other than the local disk (``s3://bucket/key``)."""
    protocol, _ = split_protocol(str(location))
    return protocol not in (None, "file", "local")


def local_folder(location: str | Path) -> Path:
    """``location`` itself when it is a local folder; for a URL, a folder of this machine's
    temporary directory named after it, so that work which must stay local (a training's
    checkpoints) still resumes on the same machine."""
    if not is_url(location):
        return Path(location)
    protocol, path = split_protocol(str(location))
    return Path(tempfile.gettempdir()) / "facial_keypoints" / str(protocol) / path.lstrip("/")
