"""Report Kaggle's metric on the validation split (overall, per keypoint, model, specialist) with plots."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
