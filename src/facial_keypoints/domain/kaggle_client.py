"""Optional Kaggle upload and download through the ``kaggle`` package (``pip install kaggle``).

Credentials are found where the kaggle package looks for them: an API token (KAGGLE_API_TOKEN or
~/.kaggle/access_token), KAGGLE_USERNAME and KAGGLE_KEY, kaggle.json in ~/.kaggle (or
$KAGGLE_CONFIG_DIR), or the OAuth credentials of ``kaggle auth login``. Used by the submission pipeline (``--params kaggle.submit=true``) and by the
``python -m facial_keypoints.tools.kaggle`` command.
"""

from __future__ import annotations

import importlib.util
import os
import zipfile
from pathlib import Path
from typing import Any

from facial_keypoints.domain.errors import InputDataError

COMPETITION = "facial-keypoints-detection"


class KaggleUnavailable(InputDataError):
    """The kaggle package or the user's credentials are missing; the message says which and how."""


def _config_dir() -> Path:
    return Path(os.environ.get("KAGGLE_CONFIG_DIR", Path.home() / ".kaggle"))


def _has_access_token() -> bool:
    """An API token as kaggle 2.x finds one: asked of the kaggle package itself when it can say."""
    try:
        from kagglesdk.kaggle_env import get_access_token_from_env  # noqa: PLC0415 - optional
    except ImportError:
        home = Path.home() / ".kaggle"
        return bool(os.environ.get("KAGGLE_API_TOKEN")) or any(
            (home / name).is_file() for name in ("access_token", "access_token.txt")
        )
    return get_access_token_from_env()[0] is not None


def missing_credentials() -> str | None:
    """What is missing for the Kaggle API to authenticate, or None when credentials exist: an API
    token (KAGGLE_API_TOKEN or ~/.kaggle/access_token), KAGGLE_USERNAME and KAGGLE_KEY, kaggle.json,
    or the OAuth credentials of ``kaggle auth login``. Checked offline; Kaggle has the last word."""
    config = _config_dir()
    if (
        _has_access_token()
        or (os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"))
        or (config / "kaggle.json").is_file()
        or (Path.home() / ".kaggle" / "credentials.json").is_file()
    ):
        return None
    return (
        "no Kaggle credentials: no API token (KAGGLE_API_TOKEN or ~/.kaggle/access_token), no "
        f"KAGGLE_USERNAME and KAGGLE_KEY, no {config / 'kaggle.json'}. Create a token at "
        "https://www.kaggle.com/settings (API > Create New Token) and export it as KAGGLE_API_TOKEN "
        "(or run `kaggle auth login`)."
    )


def check_ready() -> None:
    """Raise KaggleUnavailable unless the kaggle package is installed and credentials exist."""
    problem = missing_credentials()
    if problem:
        raise KaggleUnavailable(problem)
    if importlib.util.find_spec("kaggle") is None:
        raise KaggleUnavailable("the kaggle package is not installed: `pip install kaggle`.")


def _api() -> Any:
    check_ready()
    from kaggle.api.kaggle_api_extended import KaggleApi  # noqa: PLC0415 - optional package

    api = KaggleApi()
    try:
        api.authenticate()
    except SystemExit as exc:  # kaggle prints its help and exits when it finds no credentials
        raise KaggleUnavailable("Kaggle did not accept the credentials it found") from exc
    return api


def submission_message(prefix: str, oof_rmse: float) -> str:
    """The description a submission gets on Kaggle: the configured prefix and its out-of-fold RMSE."""
    return f"{prefix}, out-of-fold RMSE {oof_rmse:.4f}"


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
