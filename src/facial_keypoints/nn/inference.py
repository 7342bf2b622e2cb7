"""Predictions of the full model and the specialists as *views* (:mod:`facial_keypoints.arrays.stacking`):
each model on the faces as they are and, for flip test-time augmentation, on the mirrored faces."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from facial_keypoints.arrays.stacking import FULL_MODEL, MIRRORED, specialist_view
from facial_keypoints.domain.geometry import flip_keypoints
from facial_keypoints.domain.keypoints import (
    ALL_COLUMNS,
    IMAGE_SIZE,
    SPECIALIST_GROUPS,
    X_COLUMNS,
    columns_of,
)
from facial_keypoints.domain.params import CombinationParams


def padded_size(faces: int, batch_size: int) -> int:
    """The batch a short last batch of ``faces`` is padded to: the next power of two, at most
    ``batch_size``. Few compiled shapes per model, and a request of one face does not cost a batch."""
    return min(batch_size, 1 << max(faces - 1, 0).bit_length())


def predict_pixels(model: keras.Model, pixels: np.ndarray, batch_size: int) -> Any:
    """``model``'s outputs for ``pixels`` (N, 96, 96, 1), batch by batch, the last batch padded
    (:func:`padded_size`); no input pipeline (faster than ``model.predict``). A model with several
    outputs (:func:`fused`) gives a list of them."""
    outputs = []
    for start in range(0, len(pixels), batch_size):
        batch = pixels[start : start + batch_size]
        padding = padded_size(len(batch), batch_size) - len(batch)
        if padding:
            batch = np.concatenate([batch, np.zeros((padding, *batch.shape[1:]), batch.dtype)])
        answer = model.predict_on_batch(batch)
        parts = answer if isinstance(answer, list | tuple) else [answer]
        outputs.append([keras.ops.convert_to_numpy(part)[: len(batch) - padding] for part in parts])
    joined = [np.concatenate(pieces) for pieces in zip(*outputs, strict=True)]
    return joined if isinstance(answer, list | tuple) else joined[0]


def save_for_inference(source: str, target: str) -> None:
    """The model in the ``.keras`` file ``source`` saved to ``target`` without its optimizer's
    state (two thirds of an Adam-trained file): all that predicting needs."""
    from facial_keypoints.nn import register_custom_objects  # noqa: PLC0415 - the package's own

    register_custom_objects()
    keras.saving.load_model(source, compile=False).save(target)


#: Where :func:`fused` keeps its model on the first model it fuses: a name Keras' saving skips.
_FUSED = "__fused_with"


def fused(models: tuple[keras.Model, ...]) -> keras.Model:
    """One Keras model whose outputs are those of ``models`` on the same faces: one call, one
    compiled function, instead of one per model (the models' layers are shared, not copied).

    Kept on the first model for the next call with the same models (a served model predicts with
    the same ones at every request), and freed with it: no cache outlives the models.
    """
    key = tuple(id(model) for model in models)
    kept = models[0].__dict__.get(_FUSED, {})
    if key not in kept:
        faces = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 1))
        kept = {key: keras.Model(faces, [model(faces) for model in models])}
        object.__setattr__(models[0], _FUSED, kept)  # not Keras' tracking: nothing to save
    return kept[key]


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
    predicted, mirrored = _predict_both(model, images, columns, mirror, flip_tta, batch_size)
    return predicted if mirrored is None else (predicted + mirrored) / 2


def _predict_both(
    model: keras.Model,
    images: np.ndarray,
    columns: list[int],
    mirror: float,
    mirrored: bool,
    batch_size: int,
    shift: int = 0,
) -> tuple[np.ndarray, np.ndarray | None]:
    """The predictions of the faces, and (if ``mirrored``) of the mirrored faces, mirrored back;
    with ``shift`` each averaged over the face as it is and moved ``shift`` pixels up, down, left
    and right (each moved prediction moved back)."""
    pixels, moves = _variants(images, mirrored, shift)
    predicted = predict_pixels(model, pixels, batch_size)
    return _undo_variants(predicted, columns, moves, mirror, mirrored)


def _variants(
    images: np.ndarray, mirrored: bool, shift: int
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Every face as a model sees it (float32, N x 96 x 96 x 1): as it is, then mirrored (if
    ``mirrored``), each moved by every shift move; and the moves."""
    pixels = images[..., None].astype(np.float32)
    faces = [pixels, pixels[:, :, ::-1]] if mirrored else [pixels]
    moves = shift_moves(shift)
    return np.concatenate([shifted(face, dx, dy) for face in faces for dx, dy in moves]), moves


def _undo_variants(
    predicted: np.ndarray,
    columns: list[int],
    moves: list[tuple[int, int]],
    mirror: float,
    mirrored: bool,
) -> tuple[np.ndarray, np.ndarray | None]:
    """A model's predictions of :func:`_variants`, each moved back, averaged over the moves: of the
    faces, and (if ``mirrored``) of the mirrored faces, mirrored back."""
    x = np.isin(columns, X_COLUMNS)
    faces = 2 if mirrored else 1
    parts = np.split(predicted, len(moves) * faces)
    unmoved = [
        part - np.where(x, dx, dy) for part, (dx, dy) in zip(parts, moves * faces, strict=True)
    ]
    plain = np.mean(unmoved[: len(moves)], axis=0)
    if not mirrored:
        return plain, None
    return plain, flip_keypoints(np.mean(unmoved[len(moves) :], axis=0), mirror, columns)


def shift_moves(shift: int) -> list[tuple[int, int]]:
    """The (dx, dy) pixel moves of shift test-time augmentation: none, or four of ``shift``."""
    if not shift:
        return [(0, 0)]
    return [(0, 0), (shift, 0), (-shift, 0), (0, shift), (0, -shift)]


def shifted(pixels: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Faces (N, 96, 96, 1) moved ``dx`` pixels right and ``dy`` down, the edge pixels repeated
    into the gap (as the training augmentation fills it)."""
    if not (dx or dy):
        return pixels
    size = pixels.shape[1]
    rows = np.clip(np.arange(size) - dy, 0, size - 1)
    cols = np.clip(np.arange(size) - dx, 0, size - 1)
    return pixels[:, rows][:, :, cols]


def predict_views(
    full_model: keras.Model,
    specialists: dict[str, keras.Model],
    images: np.ndarray,
    mirror: float,
    mirrored: bool,
    batch_size: int,
    shift: int = 0,
) -> dict[str, np.ndarray]:
    """Every model's view (N, 30), NaN outside a specialist's group; with ``mirrored`` also each
    model's ``<view>_mirrored``.

    Args:
        specialists: trained specialists by group.
        images: uint8 faces (N, 96, 96).
        mirror: the flip convention, to mirror faces and un-mirror their predictions.
        mirrored: whether to predict the mirrored faces too (flip test-time augmentation).
        batch_size: faces per prediction batch.
        shift: shift test-time augmentation (:func:`shift_moves`), 0 for none.

    Returns:
        ``{view name: (N, 30) float32}`` (:mod:`facial_keypoints.arrays.stacking` names views).
    """
    models = {FULL_MODEL: (full_model, ALL_COLUMNS)} | {
        specialist_view(group): (model, columns_of(SPECIALIST_GROUPS[group]))
        for group, model in specialists.items()
    }
    pixels, moves = _variants(images, mirrored, shift)
    together = [model for model, _ in models.values()]
    outputs = predict_pixels(fused(tuple(together)), pixels, batch_size)
    outputs = outputs if isinstance(outputs, list) else [outputs]  # a lone model: one output
    views = {}
    for (name, (_, columns)), output in zip(models.items(), outputs, strict=True):
        plain, flipped = _undo_variants(output, columns, moves, mirror, mirrored)
        for view, values in ((name, plain), (name + MIRRORED, flipped)):
            if values is not None:
                views[view] = np.full((len(images), len(ALL_COLUMNS)), np.nan, np.float32)
                views[view][:, columns] = values
    return views


def predict_fold_views(
    full_model: keras.Model,
    specialists: dict[str, keras.Model],
    enabled: list[str],
    images: np.ndarray,
    mirror: float,
    combination: CombinationParams,
) -> dict[str, np.ndarray]:
    """The views of a fold's full model and ``enabled`` specialists that ``combination`` may use
    (mirrored ones unless flip TTA is off), each averaged over ``combination.shift_tta`` moves."""
    return predict_views(
        full_model,
        {group: specialists[group] for group in enabled},
        images,
        mirror,
        combination.flip_tta is not False,
        combination.prediction_batch_size,
        combination.shift_tta,
    )
