"""Nodes of the modelling pipeline: the full-data CNN, per-feature specialists, and their combination."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import keras
import numpy as np

from facial_keypoints.keypoints import COLUMNS, FLIP_PERMUTATION, SPECIALIST_GROUPS, columns_of
from facial_keypoints.pipelines.modelling.architectures import KeypointScale, build_model
from facial_keypoints.pipelines.modelling.training import fit

logger = logging.getLogger(__name__)
Faces = dict[str, np.ndarray]


def _training_rows(train: Faces, columns: list[int], rows: str) -> np.ndarray:
    """Faces to train on: any of the columns present (``any``) or all 30 present (``complete``)."""
    if rows == "complete":
        return train["mask"].all(axis=1)
    if rows == "any":
        return train["mask"][:, columns].any(axis=1)
    raise ValueError(f"train_rows must be 'any' or 'complete', got {rows!r}")


def _summary(history: dict[str, list[float]], samples: int) -> dict[str, Any]:
    """What the reference slides tabulated by hand: samples, epochs, seconds, best RMSE, history."""
    epochs = len(history.get("loss", []))
    seconds = sum(history.get("seconds", []))  # summed per epoch, so it spans resumed runs too
    return {
        "training_samples": samples,
        "epochs": epochs,
        "seconds": seconds,
        "seconds_per_epoch": seconds / max(epochs, 1),
        "best_val_rmse": min(history["val_rmse"]) if epochs else None,
        "history": history,
    }


def train_full_model(
    train: Faces, validation: Faces, flip_convention: dict[str, Any], params: dict[str, Any]
) -> tuple[keras.Model, dict[str, Any]]:
    """Train the full-data CNN on all 30 coordinates with the masked loss."""
    keras.utils.set_random_seed(params["seed"])
    columns = list(range(len(COLUMNS)))
    rows = _training_rows(train, columns, params.get("train_rows", "any"))
    keypoints = train["keypoints"][rows]
    mean, std = np.nanmean(keypoints, axis=0), np.nanstd(keypoints, axis=0)
    model = build_model(params["architecture"], len(columns), mean, std, params.get("options"))
    logger.info("Training %s (%s parameters) on %d faces", model.name, f"{model.count_params():,}",
                int(rows.sum()))
    history = fit(model, (train["images"][rows], keypoints), (validation["images"], validation["keypoints"]),
                  std, params, flip_convention["mirror"], Path(params["checkpoint_dir"]) / "full_model")
    return model, _summary(history, int(rows.sum()))


def specialist_from(full_model: keras.Model, columns: list[int], name: str) -> keras.Model:
    """A copy of the full model whose head predicts only ``columns``, starting from its weights."""
    config = full_model.get_config()
    for layer in config["layers"]:
        if layer["class_name"] == "Dense" and layer["config"]["name"] == "standardised_keypoints":
            layer["config"]["units"] = len(columns)
        if layer["config"]["name"] == "keypoints":
            layer["config"]["mean"] = [layer["config"]["mean"][c] for c in columns]
            layer["config"]["std"] = [layer["config"]["std"][c] for c in columns]
    config["name"] = name
    specialist = keras.Model.from_config(config)
    for source, target in zip(full_model.layers, specialist.layers, strict=True):
        weights = source.get_weights()
        if source.name == "standardised_keypoints":
            weights = [weights[0][:, columns], weights[1][columns]]
        target.set_weights(weights)
    return specialist


def train_specialist(
    full_model: keras.Model,
    train: Faces,
    validation: Faces,
    flip_convention: dict[str, Any],
    params: dict[str, Any],
) -> tuple[keras.Model, dict[str, Any]]:
    """Fine-tune a copy of the full model on one keypoint group, on every face labelled for it."""
    keras.utils.set_random_seed(params["seed"])
    columns = columns_of(SPECIALIST_GROUPS[params["name"]])
    rows = _training_rows(train, columns, params.get("train_rows", "any"))
    model = specialist_from(full_model, columns, params["name"])
    scale = next(layer for layer in model.layers if isinstance(layer, KeypointScale))
    logger.info("Specialist %s: %d coordinates, %d faces", params["name"], len(columns), int(rows.sum()))
    history = fit(
        model,
        (train["images"][rows], train["keypoints"][rows]),
        (validation["images"], validation["keypoints"]),
        scale.std, params, flip_convention["mirror"],
        Path(params["checkpoint_dir"]) / params["name"],
        columns,
    )
    return model, _summary(history, int(rows.sum()))


def predict_pixels(model: keras.Model, pixels: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """``model``'s outputs for ``pixels`` (N, 96, 96, 1), batch by batch, the last batch padded to
    full size: one compiled shape per model and no input pipeline, about 1.5x faster than
    ``model.predict`` here."""
    outputs = []
    for start in range(0, len(pixels), batch_size):
        batch = pixels[start : start + batch_size]
        padding = batch_size - len(batch)
        if padding:
            batch = np.concatenate([batch, np.zeros((padding, *batch.shape[1:]), batch.dtype)])
        outputs.append(keras.ops.convert_to_numpy(model.predict_on_batch(batch))[: batch_size - padding])
    return np.concatenate(outputs)


def predict(
    model: keras.Model, images: np.ndarray, columns: list[int], mirror: float, flip_tta: bool
) -> np.ndarray:
    """The model's keypoints (for ``columns``) in pixels; with ``flip_tta`` averaged with the
    un-mirrored, left/right-swapped prediction of each mirrored face."""
    pixels = images[..., None].astype(np.float32)
    if not flip_tta:
        return predict_pixels(model, pixels)
    both = predict_pixels(model, np.concatenate([pixels, pixels[:, :, ::-1]]))
    predicted, mirrored = both[: len(pixels)], both[len(pixels) :]
    x_columns = [i for i, column in enumerate(columns) if column % 2 == 0]
    mirrored[:, x_columns] = mirror - mirrored[:, x_columns]
    swapped = [columns.index(FLIP_PERMUTATION[column]) for column in columns]
    return (predicted + mirrored[:, swapped]) / 2


def rmse(predicted: np.ndarray, keypoints: np.ndarray) -> float:
    """Kaggle's metric: RMSE in pixels over the present (non-NaN) values."""
    present = ~np.isnan(keypoints)
    return float(np.sqrt(np.mean((predicted[present] - keypoints[present]) ** 2)))


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


def predict_all(
    full_model: keras.Model, specialists: dict[str, keras.Model], images: np.ndarray,
    mirror: float, flip_tta: bool,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Predictions of the full model (all 30 columns) and of each specialist (its group's columns)."""
    full = predict(full_model, images, list(range(len(COLUMNS))), mirror, flip_tta)
    parts = {name: predict(model, images, columns_of(SPECIALIST_GROUPS[name]), mirror, flip_tta)
             for name, model in specialists.items()}
    return full, parts


def choose_combination(
    validation: Faces,
    flip_convention: dict[str, Any],
    params: dict[str, Any],
    full_model: keras.Model,
    **specialists: keras.Model,
) -> dict[str, Any]:
    """Per keypoint column, pick full model, specialist or average by validation RMSE; same for flip TTA."""
    mirror, truth = flip_convention["mirror"], validation["keypoints"]
    options = {"auto": (False, True), True: (True,), False: (False,)}[params["flip_tta"]]
    best: dict[str, Any] = {}
    for flip_tta in options:
        full, parts = predict_all(full_model, specialists, validation["images"], mirror, flip_tta)
        sources = {}
        for name, predicted in parts.items():
            for j, column in enumerate(columns_of(SPECIALIST_GROUPS[name])):
                candidates = {"full": full[:, column], "specialist": predicted[:, j],
                              "average": (full[:, column] + predicted[:, j]) / 2}
                errors = {key: rmse(value, truth[:, column]) for key, value in candidates.items()}
                sources[COLUMNS[column]] = min(errors, key=errors.get)
        sources = {name: sources[name] for name in COLUMNS if name in sources}
        combined = combine(full, parts, sources)
        result = {
            "flip_tta": flip_tta,
            "sources": sources,
            "val_rmse": rmse(combined, truth),
            "val_rmse_full_model": rmse(full, truth),
        }
        logger.info("Combination with flip TTA %s: validation RMSE %.4f (full model alone %.4f)",
                    flip_tta, result["val_rmse"], result["val_rmse_full_model"])
        if not best or result["val_rmse"] < best["val_rmse"]:
            best = result
    return best
