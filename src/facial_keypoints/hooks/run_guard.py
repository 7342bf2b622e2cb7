"""One run at a time in a data folder, and SIGTERM treated as Ctrl-C.

Two runs writing one ``data_root`` would share its checkpoints and its "latest" model versions: the
second would delete the first's live checkpoints, or the first would submit the second's models.
So a run holds an exclusive lock on ``<data_root>/.run.lock`` (``fcntl.flock``: released by the
operating system when the process ends, however it ends) from before its first node to its end, and
a second run in the same folder stops at once with one line naming the run that holds it. Runs of
other environments (``--env demo`` writes ``data/demo``) or of other project copies run side by side.
A ``data_root`` on a remote store (``s3://...``) is locked in the local folder that holds its
checkpoints (:func:`~facial_keypoints.domain.storage.local_folder`): runs on one machine take turns;
runs on other machines are not seen.
Workers of a study (``kedro run --pipelines tune``) share the folder with each other (a shared lock:
their trials write no model, and what they write besides is the same file for all), never with
another run.

``timeout``, ``docker stop`` and job schedulers end a process with SIGTERM; during a run it raises
KeyboardInterrupt, as Ctrl-C does, so the run ends the same way (its MLflow run KILLED). A signal
that arrives while a garbage-collector callback runs (JAX and TensorFlow register some) is raised
again a moment later: Python ignores exceptions raised there.
"""

from __future__ import annotations

import fcntl
import gc
import json
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl

from facial_keypoints.domain.errors import InputDataError
from facial_keypoints.domain.storage import check_store, is_url, local_folder

LOCK_NAME = ".run.lock"
#: The pipeline whose runs share a data folder with each other: the workers of a study.
SHARING = "tune"


class ProjectBusyError(InputDataError):
    """Another run holds the data folder."""


def _in_finaliser(frame: Any) -> bool:
    """Whether ``frame`` runs inside a garbage-collector callback or a ``__del__``, where Python
    ignores exceptions (a KeyboardInterrupt raised there would be lost)."""
    callbacks = {getattr(callback, "__code__", None) for callback in gc.callbacks}
    while frame is not None:
        if frame.f_code in callbacks or frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised as Ctrl-C's KeyboardInterrupt is and handled the same way everywhere.

    Not KeyboardInterrupt itself: CPython remembers a KeyboardInterrupt that escapes code run by
    ``exec``/``eval`` of a string (as libraries that generate code run it) and then ends the process by
    SIGINT, whatever exit status the run chose (exit code -2, not 1); it checks the exact class.
    """


#: Whether a SIGTERM waits for the SIGALRM that raises it again (a SIGALRM is ours only then).
_deferred = {"sigterm": False}


def _interrupt(signum: int, frame: Any) -> None:
    """Raise KeyboardInterrupt as Ctrl-C does; inside a finaliser, a moment later instead."""
    if signum == signal.SIGALRM and not _deferred["sigterm"]:
        return
    if _in_finaliser(frame):
        _deferred["sigterm"] = True
        signal.setitimer(signal.ITIMER_REAL, 0.05)  # SIGALRM comes back here
        return
    _deferred["sigterm"] = False
    raise Terminated("stopped by SIGTERM")


class RunGuardHook:
    """Holds the data folder's lock for the length of a run; SIGTERM interrupts like Ctrl-C."""

    def __init__(self) -> None:
        """No data folder until a context is created."""
        self._data_root: Path | None = None
        self._remote = False
        self._lock: IO[str] | None = None
        self._previous_handlers: dict[int, Any] = {}

    @property
    def data_root(self) -> Path | None:
        """The local data folder of the environment of the latest context (None on a remote store)."""
        return None if self._remote else self._data_root

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        """Note the environment's data folder (``globals: data_root``), against the project."""
        known = context.config_loader["globals"]
        for name in ("data_root", "raw_root"):
            check_store(name, known[name])
        configured = known["data_root"]
        self._remote = is_url(configured)
        data_root = local_folder(configured)
        self._data_root = data_root if data_root.is_absolute() else context.project_path / data_root

    @hook_impl(tryfirst=True)  # before any other hook starts anything
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        """Take the data folder, or stop with one line naming the run that has it."""
        assert self._data_root is not None
        self.release()
        self._data_root.mkdir(parents=True, exist_ok=True)
        path = self._data_root / LOCK_NAME
        handle = path.open("a+")
        mode = fcntl.LOCK_SH if run_params.get("pipeline_names") == [SHARING] else fcntl.LOCK_EX
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = _describe(handle.read())
            handle.close()
            raise ProjectBusyError(
                f"Another run is using {self._data_root}: {holder}. Wait for it to finish (or "
                "stop it), or run in another copy of the project or with another "
                "--env (each environment has its own data folder)."
            ) from None
        handle.truncate(0)  # what an earlier run noted is not this run's
        self._lock = handle
        self.note(
            pid=os.getpid(),
            host=socket.gethostname(),
            started=time.strftime("%Y-%m-%d %H:%M:%S"),
            command=" ".join(["kedro", *sys.argv[1:]]) if sys.argv else "kedro run",
        )
        if threading.current_thread() is threading.main_thread():
            self._previous_handlers = {
                number: signal.signal(number, _interrupt)
                for number in (signal.SIGTERM, signal.SIGALRM)
            }

    def note(self, **facts: Any) -> None:
        """Add ``facts`` about this run to the lock file, for the message a second run prints."""
        if self._lock is None:
            return
        self._lock.seek(0)
        known = json.loads(self._lock.read() or "{}")
        self._lock.seek(0)
        self._lock.truncate()
        self._lock.write(json.dumps({**known, **facts}))
        self._lock.flush()

    @hook_impl(trylast=True)  # after the other hooks have finished the run
    def after_pipeline_run(self) -> None:
        """Give the data folder back."""
        self.release()

    @hook_impl(trylast=True)
    def on_pipeline_error(self) -> None:
        """Give the data folder back."""
        self.release()

    def release(self) -> None:
        """Unlock the data folder and restore SIGTERM's handler (nothing if not held)."""
        for number, handler in self._previous_handlers.items():
            signal.signal(number, handler)
        self._previous_handlers = {}
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None


def _describe(content: str) -> str:
    """The holder of a lock, in words, from what it noted in the lock file."""
    try:
        facts = json.loads(content)
    except ValueError:
        return "a run that has not said which yet"
    run = f"MLflow run {facts['mlflow_run']}, " if "mlflow_run" in facts else ""
    return (
        f"{run}process {facts.get('pid', '?')} on {facts.get('host', '?')}, started "
        f"{facts.get('started', '?')} (`{facts.get('command', 'kedro run')}`)"
    )
