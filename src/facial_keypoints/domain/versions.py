"""The versions that Kedro keeps of a versioned artefact (``<filepath>/<version>/<name>``), and which
of them pruning may delete."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


def versions(artefact: Path) -> list[str]:
    """The saved versions of the versioned artefact at ``artefact`` (its folder), oldest first
    (Kedro's version strings sort by time)."""
    if not artefact.is_dir():
        return []
    return sorted(child.name for child in artefact.iterdir() if child.is_dir())


def folder_bytes(folder: Path, since: float = 0.0) -> tuple[int, int]:
    """The bytes of every file under ``folder``, and of those changed since ``since`` (a time)."""
    total = recent = 0
    for path in folder.rglob("*"):
        if path.is_file():
            stat = path.stat()
            total += stat.st_size
            recent += stat.st_size if stat.st_mtime >= since else 0
    return total, recent


@dataclass(frozen=True)
class Pruning:
    """What pruning removes and keeps."""

    removed: list[Path]
    kept: list[Path]
    freed_bytes: int


def prune(
    artefacts: Iterable[Path],
    complete: list[str],
    keep_versions: int,
    marked: set[str],
    dry_run: bool = False,
) -> Pruning:
    """Delete the versions of ``artefacts`` (folders of versioned artefacts) that no one needs.

    Kept: the versions of the ``keep_versions`` latest ``complete`` runs (the versions a run that
    finished training wrote, e.g. those of the combination), the ``marked`` versions, and the latest
    version of each artefact (what ``kedro run --pipelines predict`` reads). Everything else goes:
    older runs and the partial versions of failed runs.
    """
    wanted = set(sorted(complete)[-keep_versions:]) | marked
    removed, kept, freed = [], [], 0
    for artefact in artefacts:
        saved = versions(artefact)
        for version in saved:
            path = artefact / version
            if version in wanted or version == saved[-1]:
                kept.append(path)
                continue
            freed += folder_bytes(path)[0]
            removed.append(path)
            if not dry_run:
                shutil.rmtree(path)
    return Pruning(removed, kept, freed)
