"""Nodes of the predict pipeline: predict the test faces with every fold's models, average the folds,
write Kaggle's CSV, upload it if asked; and of the served model, which shares the predicting ones."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import lazy_loader
import numpy as np

from facial_keypoints import nn
from facial_keypoints.arrays import stacking
from facial_keypoints.arrays.parsing import parse_images
from facial_keypoints.domain import kaggle_client
from facial_keypoints.domain.errors import InputDataError, RequestError, first_line
from facial_keypoints.domain.faces import Faces
from facial_keypoints.domain.keypoints import COLUMNS, IMAGE_COLUMN, IMAGE_SIZE, N_PIXELS
from facial_keypoints.domain.params import (
    CombinationParams,
    KaggleParams,
    ServingParams,
    SpecialistsParams,
)
from facial_keypoints.nn import KerasModel

# pandas is imported on first use, not when Kedro loads the pipelines: `kedro` commands start fast.
pd = lazy_loader.load("pandas")

logger = logging.getLogger(__name__)


def read_request(request: pd.DataFrame, serving: ServingParams) -> Faces:
    """The faces of a request to the served model (an ``Image`` column as in test.csv), numbered
    from 1; anything it cannot answer is a :class:`RequestError`."""
    if IMAGE_COLUMN not in request.columns:
        raise RequestError(
            f"The request has no column {IMAGE_COLUMN!r} (columns: {list(request.columns)[:5]}): "
            f"send one row per face with its {IMAGE_COLUMN} as in test.csv."
        )
    if request.empty:
        raise RequestError(
            f"The request holds no faces: send at least one row with an {IMAGE_COLUMN}."
        )
    if len(request) > serving.max_faces:
        raise RequestError(
            f"The request holds {len(request)} faces, more than this model's serving.max_faces = "
            f"{serving.max_faces}: split it into requests of at most {serving.max_faces} faces."
        )
    texts = request[IMAGE_COLUMN].map(lambda value: "" if value is None else str(value))
    try:
        images = parse_images(
            texts,
            "The request's",
            label=lambda index: f"face {index + 1}",
            fix=f"Send each {IMAGE_COLUMN} as {N_PIXELS} space-separated integers 0-255 "
            f"({IMAGE_SIZE}x{IMAGE_SIZE} grayscale, row by row), as in test.csv.",
        )
    except InputDataError as exc:
        raise RequestError(str(exc)) from None
    return {"images": images, "ids": np.arange(1, len(images) + 1, dtype=np.int64)}


def predict_test_views(
    test: Faces,
    flip_convention: dict[str, Any],
    combination: CombinationParams,
    specialists: SpecialistsParams,
    full_model: KerasModel,
    **models: KerasModel,
) -> dict[str, np.ndarray]:
    """Every view of one fold's models (:mod:`facial_keypoints.arrays.stacking`) on the test faces."""
    return nn.inference.predict_fold_views(
        full_model,
        models,
        specialists.enabled,
        test["images"],
        flip_convention["mirror"],
        combination,
    )


def combine_folds(
    test: Faces, combination: dict[str, Any], **folds: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Each fold's views combined as ``combination.json`` says: every fold's predictions (K, N, 30)
    and the faces' ids."""
    if len(folds) != combination["folds"]:
        raise InputDataError(
            f"The trained models come from cv.folds = {combination['folds']}, but this run has "
            f"cv.folds = {len(folds)}: run with --params cv.folds={combination['folds']} (or set it "
            "in conf/), or train again with the folds you want."
        )
    stacked = np.stack([stacking.combine(views, combination) for views in folds.values()])
    return {"ids": test["ids"], "folds": stacked}


def average_folds(fold_predictions: dict[str, np.ndarray]) -> pd.DataFrame:
    """The folds' predictions averaged: one row per face, its id as ``ImageId``."""
    frame = pd.DataFrame(fold_predictions["folds"].mean(axis=0), columns=list(COLUMNS))
    frame.insert(0, "ImageId", fold_predictions["ids"])
    logger.info(
        "Predicted %d faces: the average of %d fold(s)", len(frame), len(fold_predictions["folds"])
    )
    return frame


def keypoints_table(predictions: pd.DataFrame) -> pd.DataFrame:
    """The served answer: the 30 keypoint columns of each face, in its order, clipped to [0, 96]
    as the submission is."""
    return _inside_image(predictions[list(COLUMNS)]).astype(np.float64)


def make_submission(test_predictions: pd.DataFrame, id_lookup: pd.DataFrame) -> pd.DataFrame:
    """Map each IdLookupTable row to its prediction, clipped to [0, 96], as ``RowId,Location``."""
    long = test_predictions.melt(id_vars="ImageId", var_name="FeatureName", value_name="Location")
    rows = id_lookup[["RowId", "ImageId", "FeatureName"]].merge(
        long, on=["ImageId", "FeatureName"], how="left", validate="many_to_one"
    )
    rows["Location"] = _inside_image(rows["Location"])
    submission = rows[["RowId", "Location"]]
    check_submission(submission, id_lookup)
    return submission


def _inside_image(values: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """Predicted coordinates clipped to the image, [0, 96], as the submission and the served model
    give them."""
    return values.clip(0.0, float(IMAGE_SIZE))


def check_submission(submission: pd.DataFrame, id_lookup: pd.DataFrame) -> None:
    """Fail unless the submission has exactly the lookup table's RowIds, in order, all in [0, 96]."""
    problems = []
    if len(submission) != len(id_lookup) or not np.array_equal(
        submission["RowId"].to_numpy(), id_lookup["RowId"].to_numpy()
    ):
        problems.append(
            f"{len(submission)} rows whose RowIds differ from the lookup table's {len(id_lookup)}"
        )
    if submission["RowId"].duplicated().any():
        problems.append(
            f"duplicate RowIds {submission['RowId'][submission['RowId'].duplicated()].head().tolist()}"
        )
    location = pd.to_numeric(submission["Location"], errors="coerce")
    missing = submission["RowId"][location.isna()]
    if len(missing):
        problems.append(
            f"no prediction for RowIds {missing.head().tolist()} ({len(missing)} in all)"
        )
    outside = submission["RowId"][(location < 0) | (location > IMAGE_SIZE)]
    if len(outside):
        problems.append(f"Locations outside [0, 96] at RowIds {outside.head().tolist()}")
    if problems:
        raise InputDataError(
            "submission.csv was not written: "
            + "; ".join(problems)
            + ". Check that IdLookupTable.csv and test.csv come from the same Kaggle download."
        )


def upload_submission(
    submission: pd.DataFrame, combination: dict[str, Any], kaggle: KaggleParams
) -> None:
    """Upload the submission to Kaggle if ``kaggle.submit`` is on; a failed upload fails the run."""
    if not kaggle.submit:
        return
    message = kaggle_client.submission_message(kaggle.message, combination["oof_rmse"])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "submission.csv"
        submission.to_csv(path, index=False)
        try:
            kaggle_client.submit(path, message)
        except Exception as exc:  # the kaggle package raises many kinds (HTTP, auth, files)
            raise InputDataError(
                f"The upload to Kaggle failed ({first_line(exc, 200)}). The submission CSV is written (in "
                "07_model_output/ under data_root): upload it with `python -m facial_keypoints.tools.kaggle "
                "submit <csv>` once that is fixed."
            ) from exc
    logger.info(
        "Uploaded the submission to Kaggle (%s): see your submissions page for the score.", message
    )
