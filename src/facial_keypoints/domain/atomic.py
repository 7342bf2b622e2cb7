"""Atomic file writing: a killed process leaves the previous file or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from facial_keypoints.domain.errors import InputDataError


def atomic_write(path: str | Path, write: Callable[[Path], Any], suffix: str = "") -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it into place.

    Temporary files that an earlier, killed write of the same file left behind are removed first.
    A folder that cannot be written is one clear InputDataError.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for leftover in path.parent.glob(f".{path.name}.*.tmp*"):
            leftover.unlink(missing_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{suffix}")
    except PermissionError as exc:
        raise InputDataError(
            f"Cannot write {path}: {exc.filename or path.parent} is not writable. Make the folder "
            "writable, or point data_root (conf/base/globals.yml, or conf/local/globals.yml) at a "
            "folder you can write to."
        ) from exc
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp creates files readable by their owner only
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
