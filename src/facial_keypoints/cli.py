"""Project CLI: Kedro's own ``kedro run``, ``kedro registry`` and ``kedro catalog``, with the user's
errors shown as one clear message.

Kedro picks up this module's ``cli`` group and ``run`` command in place of its built-in ones; every
option is Kedro's. A user's data or parameter error (missing file, bad pixels, unknown feature, a
parameter out of range, such as a ``cv.folds`` that the pipelines cannot be built with...) ends the
command with ``Error: <message>`` and exit code 1 instead of a Python traceback.

:func:`defer_plugin_commands` keeps ``kedro`` commands quick to start (see there).
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from kedro.framework.cli.catalog import catalog as kedro_catalog
from kedro.framework.cli.project import run as kedro_run
from kedro.framework.cli.registry import registry as kedro_registry
from kedro.utils import find_kedro_project

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


def _with_clear_errors(command: click.Command) -> click.Command:
    """A copy of Kedro's ``command`` (of each command, for a group) whose user errors end in one
    line."""
    if isinstance(command, click.Group):
        group = click.Group(name=command.name, help=command.help, short_help=command.short_help)
        for sub_command in command.commands.values():
            group.add_command(_with_clear_errors(sub_command))
        return group
    return click.Command(
        name=command.name,
        params=command.params,
        callback=_with_clear_input_errors(command.callback),
        help=command.help,
        short_help=command.short_help,
    )


def _from_the_project_folder(callback: Callable[..., Any]) -> Callable[..., Any]:
    """Run from the project's folder, wherever inside it ``kedro run`` was started: the relative
    paths of conf/ (checkpoints, the MLflow store, the demo files, ``cv.groups``) mean the
    project's, never a ``notebooks/data/`` of their own."""

    @functools.wraps(callback)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        project = find_kedro_project(Path.cwd())
        if project is not None:
            os.chdir(project)
        return callback(*args, **kwargs)

    return wrapper


run = _with_clear_errors(kedro_run)
run.callback = _from_the_project_folder(run.callback)
cli.add_command(run)
cli.add_command(_with_clear_errors(kedro_registry))
cli.add_command(_with_clear_errors(kedro_catalog))


#: Command groups of Kedro plugins that import far more than they need to list their commands:
#: entry-point module -> (group attribute, the commands it holds). kedro-mlflow's module imports
#: MLflow, about a second, on every `kedro` command of a project.
DEFERRED_PLUGIN_COMMANDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "kedro_mlflow.framework.cli.cli": ("commands", ("mlflow",)),
}


class _DeferredGroup(click.Group):
    """A plugin's command group that imports the plugin when one of its commands is asked for."""

    def __init__(self, module: str, attribute: str, names: tuple[str, ...]) -> None:
        super().__init__(name=module)
        self._module, self._attribute, self._names = module, attribute, names

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self._names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self._names:
            return None
        if isinstance(sys.modules.get(self._module), _StandIn):
            del sys.modules[self._module]
        group = getattr(importlib.import_module(self._module), self._attribute)
        return group.get_command(ctx, cmd_name)


class _StandIn(types.ModuleType):
    """What Kedro finds when it loads a deferred plugin's entry point."""


def defer_plugin_commands() -> None:
    """Let Kedro load the entry points of :data:`DEFERRED_PLUGIN_COMMANDS` as stand-ins that import
    the plugin only when one of its commands runs (``kedro mlflow ui``).

    Kedro imports every plugin's command module before it runs any command (``kedro registry
    list`` included), and imports this project's settings, which call this, just before.
    """
    for module, (attribute, names) in DEFERRED_PLUGIN_COMMANDS.items():
        if module not in sys.modules:
            stand_in = _StandIn(module)
            setattr(stand_in, attribute, _DeferredGroup(module, attribute, names))
            sys.modules[module] = stand_in
