"""Errors a user can cause (input files, parameters, damaged state), each shown as one clear message."""

from __future__ import annotations

import re

KAGGLE_DOWNLOAD_HINT = (
    "Get it with `kaggle competitions download -c facial-keypoints-detection` and unzip the "
    "download into data/01_raw/ (training.zip and test.zip may stay zipped), "
    "or run on generated demo data with `kedro run --env demo`."
)


class InputDataError(ValueError):
    """A problem with the user's input data; its message names the file, row(s) and fix."""


class RequestError(InputDataError):
    """A request to the served model that it cannot answer: answered 400 with this message."""


def first_line(error: BaseException, limit: int = 120) -> str:
    """An exception's first line, cut to ``limit`` characters (its class name if it has no text),
    to quote inside a one-line message."""
    return (str(error).splitlines() or [type(error).__name__])[0][:limit]


def find_input_error(exc: BaseException) -> InputDataError | None:
    """The InputDataError that caused ``exc``, if any, following ``__cause__``/``__context__``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, InputDataError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


_SECRETS = (
    (re.compile(r"(://[^:/@\s]+:)[^@\s]+@"), r"\1***@"),  # user:password@host
    (re.compile(r"(?i)\b(password|passwd|token|secret|api_key|access_key)=[^&\s]+"), r"\1=***"),
)


def mask_credentials(text: str) -> str:
    """``text`` with the passwords and tokens of any URI in it replaced by ``***``."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text
