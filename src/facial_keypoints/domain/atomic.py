"""Atomic file writing: a killed process leaves the previous file or the new one, never half of one."""

from __future__ import annotations

import errno
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from facial_keypoints.domain.errors import InputDataError

#: Space kept free beyond a write's own size: the file system's and other writers' needs.
HEADROOM_BYTES = 16 * 2**20


class DiskFullError(InputDataError):
    """The disk has no room for a file; the previous file, if any, is intact."""


def _disk_full(path: Path, needs: int) -> DiskFullError:
    free = shutil.disk_usage(path.parent).free
    size = f"needs about {needs / 2**20:.0f} MB" if needs else "did not fit"
    return DiskFullError(
        f"No space left on {path.parent}: writing {path.name} {size}, free "
        f"{free / 2**20:.0f} MB. The last good file is intact; "
        "free some space (older model versions: `python -m facial_keypoints.tools.prune`) or "
        "point data_root (conf/local/globals.yml) at a larger disk, then run again."
    )


def _is_disk_full(error: BaseException) -> bool:
    """Whether ``error`` says the disk is full (writers such as HDF5 give no errno)."""
    return getattr(error, "errno", None) in (errno.ENOSPC, errno.EDQUOT) or (
        "No space left on device" in str(error) or "errno = 28" in str(error)
    )


def array_bytes(arrays: Iterable[Any]) -> int:
    """The bytes that ``arrays`` (anything with a ``shape`` and a ``dtype``, such as a model's
    variables) take uncompressed: about what writing them needs."""
    return sum(math.prod(array.shape) * np.dtype(str(array.dtype)).itemsize for array in arrays)


def atomic_write(
    path: str | Path, write: Callable[[Path], Any], suffix: str = "", needs: int = 0
) -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it into place.

    Temporary files that an earlier, killed write of the same file left behind are removed first.
    A folder that cannot be written is one clear InputDataError, and so is a full disk: checked
    before the write when its size (``needs``, bytes) is known, since some writers (HDF5 weights)
    crash the process rather than fail on a full disk, and caught when the write fails.
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
        if needs and shutil.disk_usage(path.parent).free < needs + HEADROOM_BYTES:
            raise _disk_full(path, needs)
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp creates files readable by their owner only
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if _is_disk_full(exc) and not isinstance(exc, DiskFullError):
            raise _disk_full(path, needs) from exc
        raise
