"""Project hooks, one concern a module: parameters checked before anything runs
(:mod:`.parameters`), one run at a time in a data folder and SIGTERM as Ctrl-C (:mod:`.run_guard`), demo files generated when missing (:mod:`.demo_data`), the previous submission
moved aside until a run writes a new one (:mod:`.stale_submission`), every run recorded in MLflow
(:mod:`.tracking`), and what a user reads at the end of a run (:mod:`.summary`).

Importing this package imports neither MLflow nor Keras: ``settings.py`` loads it on every
``kedro`` command.
"""

from facial_keypoints.hooks.demo_data import DemoDataHook
from facial_keypoints.hooks.parameters import ParameterCheckHook
from facial_keypoints.hooks.run_guard import RunGuardHook
from facial_keypoints.hooks.stale_submission import StaleSubmissionHook
from facial_keypoints.hooks.summary import RunSummaryHook
from facial_keypoints.hooks.tracking import TrackingHook

__all__ = [
    "DemoDataHook",
    "ParameterCheckHook",
    "RunGuardHook",
    "RunSummaryHook",
    "StaleSubmissionHook",
    "TrackingHook",
]
