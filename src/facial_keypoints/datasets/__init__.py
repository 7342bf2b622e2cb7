"""The project's Kedro datasets: Kaggle's raw CSVs (zipped or not) and atomically written artefacts."""

from facial_keypoints.datasets.atomic import (
    ArtefactError,
    AtomicCSVDataset,
    AtomicJSONDataset,
    KerasModelDataset,
    NpzDataset,
)
from facial_keypoints.datasets.raw import KaggleCSVDataset, RawFileError

__all__ = [
    "ArtefactError",
    "AtomicCSVDataset",
    "AtomicJSONDataset",
    "KaggleCSVDataset",
    "KerasModelDataset",
    "NpzDataset",
    "RawFileError",
]
