"""Project CLI: Kedro's own ``kedro run``, with the user's errors shown as one clear message.

Kedro picks up this module's ``cli`` group and ``run`` command in place of its built-in ``run``; every
option is Kedro's. A user's data or parameter error (missing file, bad pixels, unknown feature, a
parameter out of range...) ends the run with ``Error: <message>`` and exit code 1 instead of a
Python traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run

from facial_keypoints.domain.errors import find_input_error


def _with_clear_input_errors(callback: Callable[..., Any]) -> Callable[..., Any]:
    """Turn an InputDataError anywhere in the exception chain into a one-line click error."""

    @functools.wraps(callback)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except Exception as exc:
            error = find_input_error(exc)
            if error is None:
                raise
            raise click.ClickException(str(error)) from None

    return wrapper


@click.group(name="facial-keypoints")
def cli() -> None:
    """Commands of the facial-keypoints project."""


run = click.Command(
    name="run",
    params=kedro_run.params,
    callback=_with_clear_input_errors(kedro_run.callback),
    help=kedro_run.help,
    short_help=kedro_run.short_help,
)
cli.add_command(run)
