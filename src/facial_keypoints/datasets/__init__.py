"""The project's Kedro datasets: Kaggle's raw CSVs (zipped or not) and atomically written artefacts."""

from facial_keypoints.datasets.artefacts import (
    ArtefactError,
    AtomicCSVDataset,
    AtomicJSONDataset,
    AtomicTextDataset,
    AtomicYAMLDataset,
    KerasModelDataset,
    NpzDataset,
    PlotDataset,
)
from facial_keypoints.datasets.kaggle_csv import KaggleCSVDataset, RawFileError

__all__ = [
    "ArtefactError",
    "AtomicCSVDataset",
    "AtomicJSONDataset",
    "AtomicTextDataset",
    "AtomicYAMLDataset",
    "KaggleCSVDataset",
    "KerasModelDataset",
    "NpzDataset",
    "PlotDataset",
    "RawFileError",
]
