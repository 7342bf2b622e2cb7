"""Kedro runners of this project: ``kedro run --runner facial_keypoints.runners.DaskRunner``
(docs/scaling.md)."""

from facial_keypoints.runners.dask import DaskRunner

__all__ = ["DaskRunner"]
