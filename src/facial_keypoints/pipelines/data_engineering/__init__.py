"""Parse, validate, clean, split and augment Kaggle's facial keypoints files."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
