"""Predict the test faces with the final combination and write the Kaggle submission CSV."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
