"""Train the full-data CNN and per-feature specialists, and choose how to combine them."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
