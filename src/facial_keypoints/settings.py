"""Project settings. There is no need to edit this file unless you want to change values
from the Kedro defaults. For further information, including these default values, see
https://docs.kedro.org/en/stable/configure/configuration_basics/#configuration"""

from omegaconf.resolvers import oc

from facial_keypoints.cli import defer_plugin_commands
from facial_keypoints.hooks import (
    DemoDataHook,
    ParameterCheckHook,
    RunGuardHook,
    RunSummaryHook,
    StaleSubmissionHook,
    TrackingHook,
)
from facial_keypoints.logs import quiet_logs
from facial_keypoints.pipeline_registry import ProjectConfigLoader

# Before Kedro loads its plugins' commands, which print third-party warnings and import MLflow
# otherwise.
quiet_logs()
defer_plugin_commands()

_checks = ParameterCheckHook()
_guard = RunGuardHook()
_tracking = TrackingHook(_checks, _guard)

# Instantiated project hooks, executed in a Last-In-First-Out (LIFO) order: parameters are checked
# first, the demo files exist before tracking fingerprints them, and the summary is printed while
# the MLflow run is still open.
HOOKS = (
    _tracking,
    RunSummaryHook(_tracking, _guard),
    StaleSubmissionHook(),
    DemoDataHook(),
    _checks,
    _guard,
)

# kedro-mlflow's own hook is replaced by TrackingHook, which extends it.
DISABLE_HOOKS_FOR_PLUGINS = ("kedro_mlflow",)

# Class that manages the KedroSession.
# from kedro.framework.session import KedroSession
# SESSION_CLASS = KedroSession

# Class that manages storing KedroSession data.
# from kedro.framework.session.store import BaseSessionStore
# SESSION_STORE_CLASS = BaseSessionStore
# Keyword arguments to pass to the `SESSION_STORE_CLASS` constructor.
# SESSION_STORE_ARGS = {
#     "path": "./sessions"
# }

# Directory that holds configuration.
# CONF_SOURCE = "conf"

# Class that manages how configuration is loaded: Kedro's OmegaConfigLoader, which also tells the
# pipeline registry which configuration (and so how many folds) the pipelines are for.
CONFIG_LOADER_CLASS = ProjectConfigLoader

# Keyword arguments to pass to the `CONFIG_LOADER_CLASS` constructor.
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # demo.yml (conf/demo): where and how the demo environment generates its raw files;
    # mlflow.yml: tracking (kedro-mlflow).
    "config_patterns": {"demo": ["demo*", "demo*/**"], "mlflow": ["mlflow*", "mlflow*/**"]},
    # Environments (demo, gpu) override single parameters and mlflow.yml keys (the demo's
    # experiment name); the rest come from base.
    "merge_strategy": {"parameters": "soft", "mlflow": "soft"},
    # mlflow.yml reads MLFLOW_TRACKING_URI (Kedro enables oc.env only for credentials by default).
    "custom_resolvers": {"oc.env": oc.env},
}

# Class that manages Kedro's library components.
# from kedro.framework.context import KedroContext
# CONTEXT_CLASS = KedroContext

# Class that manages the Data Catalog.
# from kedro.io import DataCatalog
# DATA_CATALOG_CLASS = DataCatalog
