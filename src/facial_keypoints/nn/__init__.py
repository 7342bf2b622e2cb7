"""The Keras library of the kit: architectures, losses, optimisers, batches, checkpoints, training,
inference and combination. It knows nothing of Kedro; the pipelines' nodes call it.

Importing this package does not import Keras: ``from facial_keypoints import nn`` is free, and
``nn.training`` (any submodule) imports Keras on first use, so Kedro commands that run no model
node start fast.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any

# TensorFlow's C++ start-up lines (CPU features, no CUDA driver) are not for the kit's users; set
# TF_CPP_MIN_LOG_LEVEL yourself to see them. Set before any submodule imports Keras.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

#: A Keras model, named for type hints of nodes that must not import Keras to be inspected.
KerasModel = Any

_SUBMODULES = (
    "architectures",
    "online_augment",
    "batches",
    "checkpoint",
    "devices",
    "inference",
    "layers",
    "losses",
    "optimizers",
    "specialists",
    "tflite",
    "training",
)


def __getattr__(name: str) -> ModuleType:
    """Import a submodule on first access (``nn.training``)."""
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def register_custom_objects() -> None:
    """Import every module that registers a serialisable class, so saved models load by name."""
    for name in ("layers", "losses", "optimizers"):
        importlib.import_module(f"{__name__}.{name}")
