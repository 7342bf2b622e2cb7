"""What an MLflow run of this project records, as plain values: each model's per-epoch history,
fingerprints of the code and the data, and the command that rebuilds a submission.
The tracking hook (:mod:`facial_keypoints.hooks.tracking`) logs them."""

from __future__ import annotations

import hashlib
import shlex
import subprocess
from collections.abc import Iterator, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

#: The per-epoch series of a training history logged as metric history (step = epoch, from 1).
HISTORY_SERIES = ("rmse", "val_rmse")

#: Packages whose versions a run's results depend on (those installed are recorded).
PACKAGES = (
    "facial_keypoints",
    "kedro",
    "kedro-mlflow",
    "mlflow",
    "keras",
    "tensorflow",
    "jax",
    "torch",
)


def history(summary: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, float, int]]:
    """``(key, value, epoch)`` of each epoch's training and validation RMSE in a model's summary."""
    for series in HISTORY_SERIES:
        for epoch, value in enumerate(summary.get("history", {}).get(series, []), start=1):
            yield f"{prefix}.{series}", float(value), epoch


def git_state(root: Path) -> dict[str, str]:
    """The commit checked out at ``root`` and whether files git tracks have changed since."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {"git.commit": "none (not a git checkout)"}
    return {"git.commit": commit, "git.dirty": str(dirty).lower()}


def sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def versions() -> dict[str, str]:
    """``version.<package>`` of each installed package of :data:`PACKAGES`."""
    found = {}
    for package in PACKAGES:
        try:
            found[f"version.{package}"] = version(package)
        except PackageNotFoundError:
            continue
    return found


def rebuild_command(
    env: str | None, params: Mapping[str, Any], load_versions: Mapping[str, str]
) -> str:
    """The ``kedro run`` that writes a submission again from the given versions of its models."""
    words = ["kedro", "run", "--pipelines", "predict"]
    if env:
        words += ["--env", env]
    if params:
        words += ["--params", ",".join(f"{key}={value}" for key, value in params.items())]
    words += [
        "--load-versions",
        ",".join(f"{name}:{load_versions[name]}" for name in sorted(load_versions)),
    ]
    return shlex.join(words)
