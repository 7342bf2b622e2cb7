"""Search the training's parameters with an Optuna study that any number of workers share."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
