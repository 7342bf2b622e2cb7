"""Predictions of the full model and the specialists, flip test-time augmentation, and their combination.

A *combination* (``combination.json``) says, for each coordinate a specialist covers, whether the
final prediction takes the specialist's value, the full model's, or their average, and whether
every model also predicts the mirrored face (flip TTA). It is chosen on the validation faces.
"""

from __future__ import annotations

import logging
from typing import Any

import keras
import numpy as np

from facial_keypoints.faces import Faces, rmse
from facial_keypoints.geometry import flip_keypoints
from facial_keypoints.keypoints import ALL_COLUMNS, COLUMNS, SPECIALIST_GROUPS, columns_of

logger = logging.getLogger(__name__)


def predict_pixels(model: keras.Model, pixels: np.ndarray, batch_size: int) -> np.ndarray:
    """``model``'s outputs for ``pixels`` (N, 96, 96, 1), batch by batch, the last batch padded to
    full size: one compiled shape per model and no input pipeline (faster than ``model.predict``)."""
    outputs = []
    for start in range(0, len(pixels), batch_size):
        batch = pixels[start : start + batch_size]
        padding = batch_size - len(batch)
        if padding:
            batch = np.concatenate([batch, np.zeros((padding, *batch.shape[1:]), batch.dtype)])
        outputs.append(
            keras.ops.convert_to_numpy(model.predict_on_batch(batch))[: batch_size - padding]
        )
    return np.concatenate(outputs)


def predict(
    model: keras.Model,
    images: np.ndarray,
    columns: list[int],
    mirror: float,
    flip_tta: bool,
    batch_size: int,
) -> np.ndarray:
    """The model's keypoints (for ``columns``) in pixels; with ``flip_tta`` averaged with the
    un-mirrored, left/right-swapped prediction of each mirrored face."""
    pixels = images[..., None].astype(np.float32)
    if not flip_tta:
        return predict_pixels(model, pixels, batch_size)
    both = predict_pixels(model, np.concatenate([pixels, pixels[:, :, ::-1]]), batch_size)
    predicted, mirrored = both[: len(pixels)], both[len(pixels) :]
    return (predicted + flip_keypoints(mirrored, mirror, columns)) / 2


def predict_all(
    full_model: keras.Model,
    specialists: dict[str, keras.Model],
    images: np.ndarray,
    mirror: float,
    flip_tta: bool,
    batch_size: int,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Predictions of the full model (all 30 columns) and of each specialist (its group's columns)."""
    full = predict(full_model, images, ALL_COLUMNS, mirror, flip_tta, batch_size)
    parts = {
        name: predict(
            model, images, columns_of(SPECIALIST_GROUPS[name]), mirror, flip_tta, batch_size
        )
        for name, model in specialists.items()
    }
    return full, parts


def combine(
    full: np.ndarray, specialists: dict[str, np.ndarray], sources: dict[str, str]
) -> np.ndarray:
    """Each column from the full model, its specialist, or their average, as ``sources`` says."""
    combined = full.copy()
    for name, predicted in specialists.items():
        for j, column in enumerate(columns_of(SPECIALIST_GROUPS[name])):
            source = sources[COLUMNS[column]]
            if source == "specialist":
                combined[:, column] = predicted[:, j]
            elif source == "average":
                combined[:, column] = (full[:, column] + predicted[:, j]) / 2
    return combined


def predict_combination(
    full_model: keras.Model,
    specialists: dict[str, keras.Model],
    combination: dict[str, Any],
    images: np.ndarray,
    mirror: float,
    batch_size: int,
) -> dict[str, np.ndarray]:
    """Predictions of the full model, each specialist the combination uses (``specialist_<group>``,
    its columns) and the final combination, as ``combination.json`` says."""
    used = {name: specialists[name] for name in combination["specialists"]}
    full, parts = predict_all(full_model, used, images, mirror, combination["flip_tta"], batch_size)
    return {
        "full_model": full,
        "final_combination": combine(full, parts, combination["sources"]),
        **{f"specialist_{name}": predicted for name, predicted in parts.items()},
    }


def choose_combination(
    validation: Faces,
    full_model: keras.Model,
    specialists: dict[str, keras.Model],
    mirror: float,
    flip_tta: bool | str,
    batch_size: int,
) -> dict[str, Any]:
    """Per coordinate, the full model, the specialist or their average, whichever has the lowest
    validation RMSE; with flip TTA or without (``auto``: whichever is better)."""
    truth = validation["keypoints"]
    options = (False, True) if flip_tta == "auto" else (bool(flip_tta),)
    best: dict[str, Any] = {}
    for tta in options:
        full, parts = predict_all(
            full_model, specialists, validation["images"], mirror, tta, batch_size
        )
        sources = {}
        for name, predicted in parts.items():
            for j, column in enumerate(columns_of(SPECIALIST_GROUPS[name])):
                candidates = {
                    "full": full[:, column],
                    "specialist": predicted[:, j],
                    "average": (full[:, column] + predicted[:, j]) / 2,
                }
                errors = {key: rmse(value, truth[:, column]) for key, value in candidates.items()}
                sources[COLUMNS[column]] = min(errors, key=errors.get)
        sources = {name: sources[name] for name in COLUMNS if name in sources}
        combined = combine(full, parts, sources)
        result = {
            "flip_tta": tta,
            "specialists": list(specialists),
            "sources": sources,
            "val_rmse": rmse(combined, truth),
            "val_rmse_full_model": rmse(full, truth),
        }
        logger.info(
            "Combination with flip TTA %s: validation RMSE %.4f (full model alone %.4f)",
            tta,
            result["val_rmse"],
            result["val_rmse_full_model"],
        )
        if not best or result["val_rmse"] < best["val_rmse"]:
            best = result
    return best
