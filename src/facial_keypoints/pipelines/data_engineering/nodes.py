"""Nodes of the data_engineering pipeline: parse, validate, clean, assign folds and augment the faces.

Faces travel between nodes as dicts of arrays (:mod:`facial_keypoints.domain.faces`).
"""

from __future__ import annotations

import logging
from typing import Any

import lazy_loader
import numpy as np

from facial_keypoints.arrays.augment import AUGMENTATIONS
from facial_keypoints.arrays.folds import (
    assign_folds,
    largest_group_allowed,
    merge_groups,
    near_duplicate_groups,
)
from facial_keypoints.arrays.mirror import estimate_mirror
from facial_keypoints.arrays.parsing import (
    check_lookup,
    parse_groups,
    parse_image_ids,
    parse_images,
    parse_keypoints,
    require_columns,
    require_labels,
    source_of,
)
from facial_keypoints.domain.errors import InputDataError, first_line
from facial_keypoints.domain.faces import Faces, concatenate, subset
from facial_keypoints.domain.keypoints import COLUMNS, IMAGE_COLUMN, IMAGE_ID_COLUMN
from facial_keypoints.domain.params import AugmentParams, CleaningParams, CVParams

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


def read_groups(training_faces: Faces, cv: CVParams) -> pd.DataFrame:
    """Each training row's group from the ``cv.groups`` file: ``row`` and its group column (only
    ``row`` when ``cv.groups`` is null)."""
    rows = training_faces["ids"]
    if cv.groups is None:
        return pd.DataFrame({"row": rows})
    try:
        frame = pd.read_csv(cv.groups, dtype=str, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise InputDataError(
            f"cv.groups: {cv.groups} does not exist (paths are relative to the project folder, "
            "where kedro run works). Give a CSV with `row` and one group column, e.g. "
            "cv.groups=data/01_raw/training_people.csv, or cv.groups=null."
        ) from None
    except (OSError, ValueError) as exc:
        raise InputDataError(
            f"cv.groups: {cv.groups} cannot be read as CSV ({first_line(exc)}). Give a CSV with "
            "`row` and one group column, or cv.groups=null."
        ) from None
    column, groups = parse_groups(frame, len(rows), cv.groups)
    return pd.DataFrame({"row": rows, column: groups})


def make_folds(
    faces: Faces, training_groups: pd.DataFrame, cv: CVParams
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Each face's fold (``row``: 1-based row of training.csv), no group of ``cv.groups`` and no
    near-duplicates split across folds; and which grouping made them."""
    near_duplicates = near_duplicate_groups(faces["images"], cv.duplicate_threshold)
    named = [name for name in training_groups.columns if name != "row"]
    if named:
        given = training_groups[named[0]].to_numpy()[faces["ids"] - 1]
        groups = merge_groups(given, near_duplicates)
    else:
        groups = near_duplicates
    complete = faces["mask"].all(axis=1).astype(np.int64)
    fold = assign_folds(complete, groups, cv.folds, cv.seed, cv.validation_fraction)
    sizes = np.bincount(groups)
    allowed = largest_group_allowed(len(groups), cv.folds, cv.validation_fraction)
    if sizes.max() > allowed:
        largest = np.flatnonzero(groups == sizes.argmax())
        shown = f"{named[0]} {given[largest[0]]!r}" if named else f"row {faces['ids'][largest[0]]}"
        raise InputDataError(
            f"cv: the group of {shown} holds {sizes.max()} of the {len(groups)} faces (with its "
            f"near-duplicates), more than a fold's {allowed}, so no fold can hold it. Use fewer "
            "cv.folds, a larger cv.validation_fraction, finer groups in cv.groups or a lower "
            "cv.duplicate_threshold."
        )
    duplicated = np.bincount(near_duplicates)
    grouping = {
        "unseen_people": bool(named),
        "groups_file": cv.groups,
        "group_column": named[0] if named else None,
        "named_groups": int(pd.Series(given).nunique()) if named else None,
        "near_duplicate_threshold": cv.duplicate_threshold,
        "near_duplicate_faces": int(duplicated[duplicated > 1].sum()),
        "groups": len(sizes),
        "largest_group": int(sizes.max()),
    }
    grouping["description"] = _describe_grouping(grouping)
    logger.info("Folds grouped by %s", grouping["description"])
    logger.info(
        "Folds (seed %d): %s validation faces",
        cv.seed,
        " / ".join(str(int((fold == k).sum())) for k in range(cv.folds)),
    )
    return pd.DataFrame({"row": faces["ids"], "fold": fold, "group": groups}), grouping


def _describe_grouping(grouping: dict[str, Any]) -> str:
    """One line saying what kept faces together in the folds."""
    duplicates = (
        f"near-duplicate images ({grouping['near_duplicate_faces']} faces at "
        f"cv.duplicate_threshold {grouping['near_duplicate_threshold']:g})"
    )
    if grouping["group_column"] is None:
        return f"{duplicates} only, no cv.groups: {grouping['groups']} groups"
    return (
        f"{grouping['group_column']} ({grouping['named_groups']} in {grouping['groups_file']}) "
        f"and {duplicates}: {grouping['groups']} groups"
    )


def choose_flip_convention(faces: Faces, augment: AugmentParams) -> dict[str, Any]:
    """The flip convention x -> mirror - x: the configured number, or estimated from the faces if ``auto``."""
    if augment.mirror != "auto":
        return {"mirror": float(augment.mirror), "method": "parameter"}
    value, per_pair = estimate_mirror(faces["images"], faces["keypoints"], augment.estimate_faces)
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
    """Append one augmented copy of the faces per enabled augmentation (offline, for your own models)."""
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
