"""Training and validation batches, shuffled and augmented from a seed so that a resumed run sees the
same batches as an uninterrupted one."""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from facial_keypoints.domain.params import OnlineAugmentParams
from facial_keypoints.nn.online_augment import augment_batch


class FaceBatches(keras.utils.PyDataset):
    """Shuffled batches of (pixels (B, 96, 96, 1), keypoints with NaN where missing), augmented on the fly.

    Faces are augmented with all 30 keypoints (so flips can swap left and right), then the batch keeps
    only ``columns`` (all 30 for the full model, a specialist's group otherwise).
    """

    def __init__(
        self,
        images: np.ndarray,
        keypoints: np.ndarray,
        batch_size: int,
        seed: int,
        columns: list[int],
        augment: OnlineAugmentParams | None,
        mirror: float,
        start_epoch: int = 0,
        multiple: int = 1,
        **kwargs: Any,
    ) -> None:
        """``augment``: the random changes of :func:`augment_batch`, None for plain (validation)
        batches; ``start_epoch``: the epoch a resumed run continues from (so it sees the same
        batches); ``multiple``: a last, shorter batch is padded to a multiple of this (the number of
        devices sharing each batch) with blank faces whose keypoints are all missing, which the
        masked loss and metric ignore."""
        super().__init__(**kwargs)
        self.images, self.keypoints, self.columns = images, keypoints, columns
        self.batch_size, self.seed, self.augment, self.mirror = batch_size, seed, augment, mirror
        self.epoch, self.multiple = start_epoch, multiple
        self.order = self._order()

    def _order(self) -> np.ndarray:
        if self.augment is None:
            return np.arange(len(self.images))
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.images))

    def __len__(self) -> int:
        """Batches per epoch."""
        return math.ceil(len(self.images) / self.batch_size)

    def __getitem__(self, index: int) -> tuple[Any, np.ndarray]:
        """Batch ``index`` of the current epoch (augmented with its own seeded generator)."""
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        images = self.images[rows][..., None].astype(np.float32)
        keypoints = self.keypoints[rows]
        if self.augment is not None:
            rng = np.random.default_rng([self.seed, self.epoch, index])
            images, keypoints = augment_batch(images, keypoints, rng, self.mirror, self.augment)
        return self._padded(images, keypoints[:, self.columns])

    def _padded(self, images: Any, keypoints: np.ndarray) -> tuple[Any, np.ndarray]:
        """The batch with blank, unlabelled faces appended up to a multiple of ``multiple``."""
        missing = -len(keypoints) % self.multiple
        if not missing:
            return images, keypoints
        pixels = np.asarray(images)
        blank = np.zeros((missing, *pixels.shape[1:]), pixels.dtype)
        unlabelled = np.full((missing, keypoints.shape[1]), np.nan, keypoints.dtype)
        return np.concatenate([pixels, blank]), np.concatenate([keypoints, unlabelled])

    def on_epoch_end(self) -> None:
        """Reshuffle for the next epoch."""
        self.epoch += 1
        self.order = self._order()
