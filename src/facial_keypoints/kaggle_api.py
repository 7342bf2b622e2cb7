"""Optional Kaggle upload and download through the ``kaggle`` package (``pip install kaggle``).

Credentials come from KAGGLE_USERNAME and KAGGLE_KEY, or from kaggle.json in ~/.kaggle (or
$KAGGLE_CONFIG_DIR). Used by the submission pipeline (``--params kaggle.submit=true``) and by the
``python -m facial_keypoints.kaggle`` command.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

COMPETITION = "facial-keypoints-detection"


class KaggleUnavailable(RuntimeError):
    """The kaggle package or the user's credentials are missing; the message says which and how."""


def missing_credentials() -> str | None:
    """What is missing for the Kaggle API to authenticate, or None when credentials exist."""
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return None
    config = Path(os.environ.get("KAGGLE_CONFIG_DIR", Path.home() / ".kaggle")) / "kaggle.json"
    if config.is_file():
        return None
    return (
        f"no Kaggle credentials: neither KAGGLE_USERNAME and KAGGLE_KEY are set nor {config} "
        "exists. Create a token at https://www.kaggle.com/settings (API > Create New Token) and "
        f"save it as {config}, or export KAGGLE_USERNAME and KAGGLE_KEY."
    )


def _api() -> Any:
    problem = missing_credentials()
    if problem:
        raise KaggleUnavailable(problem)
    try:
        from kaggle.api.kaggle_api_extended import KaggleApi  # noqa: PLC0415
    except ImportError as exc:
        raise KaggleUnavailable("the kaggle package is not installed: pip install kaggle") from exc
    api = KaggleApi()
    api.authenticate()
    return api


def submit(path: str | Path, message: str) -> None:
    """Upload a submission CSV to the competition (you must have accepted its rules on Kaggle)."""
    _api().competition_submit(str(path), message, COMPETITION)


def download(folder: str | Path) -> list[Path]:
    """Download the competition's files into ``folder`` and unpack the outer archive there."""
    api, folder = _api(), Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    api.competition_download_files(COMPETITION, path=str(folder))
    archive = folder / f"{COMPETITION}.zip"
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(folder)
    archive.unlink()
    return sorted(folder.iterdir())
