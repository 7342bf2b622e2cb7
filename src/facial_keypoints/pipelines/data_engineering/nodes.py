"""Nodes of the data_engineering pipeline: parse, validate, clean, split and augment the faces.

Faces travel between nodes as dicts of arrays (:mod:`facial_keypoints.faces`).
"""

from __future__ import annotations

import logging
from typing import Any

import lazy_loader
import numpy as np

from facial_keypoints.data.augment import AUGMENTATIONS
from facial_keypoints.data.mirror import estimate_mirror
from facial_keypoints.data.parsing import (
    check_lookup,
    parse_image_ids,
    parse_images,
    parse_keypoints,
    require_columns,
    require_labels,
    source_of,
)
from facial_keypoints.errors import InputDataError
from facial_keypoints.faces import Faces, concatenate, subset
from facial_keypoints.keypoints import COLUMNS, IMAGE_COLUMN, IMAGE_ID_COLUMN
from facial_keypoints.params import AugmentParams, CleaningParams, SplitParams

# pandas is imported on first use, not when Kedro loads the pipelines: `kedro` commands start fast.
pd = lazy_loader.load("pandas")

logger = logging.getLogger(__name__)
_GEOMETRIC = (
    "flip",
    "random_flip",
    "affine",
)  # augmentations that move keypoints, so need `mirror`


def parse_training(training_raw: pd.DataFrame) -> Faces:
    """Parse and validate training.csv into images, keypoints, mask and row ids."""
    source = source_of(training_raw, "training.csv")
    require_columns(training_raw, [*COLUMNS, IMAGE_COLUMN], source)
    keypoints = parse_keypoints(training_raw, source)
    require_labels(keypoints, source)
    images = parse_images(training_raw[IMAGE_COLUMN], source)
    mask = (~np.isnan(keypoints)).astype(np.uint8)
    logger.info(
        "Parsed %d training faces: %d with all 30 keypoints, %.0f%% of values present",
        len(images),
        int(mask.all(axis=1).sum()),
        100 * mask.mean(),
    )
    return {
        "images": images,
        "keypoints": keypoints,
        "mask": mask,
        "ids": np.arange(1, len(images) + 1, dtype=np.int64),
    }


def parse_test(test_raw: pd.DataFrame) -> Faces:
    """Parse and validate test.csv into images and their ImageIds."""
    source = source_of(test_raw, "test.csv")
    require_columns(test_raw, [IMAGE_ID_COLUMN, IMAGE_COLUMN], source)
    ids = parse_image_ids(test_raw, source)
    images = parse_images(test_raw[IMAGE_COLUMN], source)
    logger.info("Parsed %d test faces", len(images))
    return {"images": images, "ids": ids}


def validate_lookup(lookup_raw: pd.DataFrame, test_faces: Faces) -> pd.DataFrame:
    """Check IdLookupTable.csv against the 30 feature names and the test ImageIds."""
    lookup = check_lookup(lookup_raw, test_faces["ids"], source_of(lookup_raw, "IdLookupTable.csv"))
    logger.info(
        "IdLookupTable: %d rows over %d test faces", len(lookup), lookup["ImageId"].nunique()
    )
    return lookup


def clean_training(training_faces: Faces, cleaning: CleaningParams) -> Faces:
    """Keep every face with its mask (``keep_all``) or only fully labelled faces (``drop_incomplete``)."""
    if cleaning.strategy == "keep_all":
        return training_faces
    complete = training_faces["mask"].all(axis=1)
    if not complete.any():
        raise InputDataError(
            f"cleaning.strategy drop_incomplete keeps no face: none of the {len(complete)} training "
            "faces has all 30 keypoints. Use cleaning.strategy=keep_all (the masked loss trains on "
            "every face), or Kaggle's training.csv."
        )
    logger.info("drop_incomplete: keeping %d of %d faces", int(complete.sum()), len(complete))
    return subset(training_faces, complete)


def split_train_validation(faces: Faces, split: SplitParams) -> tuple[Faces, Faces]:
    """Deterministic split from a seed, stratified so both parts keep the share of complete faces."""
    rng = np.random.default_rng(split.seed)
    complete = faces["mask"].all(axis=1)
    validation = []
    for stratum in (np.flatnonzero(complete), np.flatnonzero(~complete)):
        shuffled = rng.permutation(stratum)
        validation.append(shuffled[: int(round(split.validation_fraction * len(stratum)))])
    is_validation = np.zeros(len(complete), dtype=bool)
    is_validation[np.concatenate(validation)] = True
    n_validation = int(is_validation.sum())
    n_train = len(complete) - n_validation
    if not n_train or not n_validation:
        raise InputDataError(
            f"Splitting {len(complete)} training face(s) with split.validation_fraction "
            f"{split.validation_fraction} leaves no {'validation' if n_train else 'training'} "
            "faces. Use a training.csv with more faces, or another split.validation_fraction."
        )
    logger.info(
        "Split: %d training faces, %d validation faces (seed %d)", n_train, n_validation, split.seed
    )
    return subset(faces, ~is_validation), subset(faces, is_validation)


def choose_flip_convention(train: Faces, augment: AugmentParams) -> dict[str, Any]:
    """The flip convention x -> mirror - x: the configured number, or estimated from the faces if ``auto``."""
    if augment.mirror != "auto":
        return {"mirror": float(augment.mirror), "method": "parameter"}
    value, per_pair = estimate_mirror(train["images"], train["keypoints"], augment.estimate_faces)
    logger.info(
        "Flip convention estimated from the training faces: x -> %.2f - x (per pair %s)",
        value,
        per_pair,
    )
    return {
        "mirror": value,
        "method": "estimated from left/right patch symmetry",
        "per_pair": per_pair,
    }


def augment_training(
    train: Faces, flip_convention: dict[str, Any], augment: AugmentParams
) -> Faces:
    """Append one augmented copy of the training faces per enabled augmentation."""
    rng = np.random.default_rng(augment.seed)
    parts = [train]
    for name, options in augment.offline.model_dump().items():
        if not options.pop("enabled"):
            continue
        if name in _GEOMETRIC:
            options["mirror"] = flip_convention["mirror"]
        images, keypoints, mask = AUGMENTATIONS[name](
            train["images"], train["keypoints"], train["mask"], rng, **options
        )
        parts.append({"images": images, "keypoints": keypoints, "mask": mask, "ids": train["ids"]})
    augmented = concatenate(parts)
    logger.info(
        "Augmented training set: %d faces (%d copies added)",
        len(augmented["images"]),
        len(parts) - 1,
    )
    return augmented
