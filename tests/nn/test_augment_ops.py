"""On-the-fly keras.ops augmentation: pixels and keypoints move together, flips swap names."""

import math

import keras
import numpy as np
import pytest

from facial_keypoints.domain.keypoints import COLUMNS, IMAGE_SIZE
from tests.conftest import augment, dotted_faces

PIXEL_OF = {96.0: math.floor, 95.0: round}


def blob_faces(keypoints: np.ndarray, pixel_of) -> np.ndarray:
    """3x3 white blobs on each keypoint's pixel, as a (N, 96, 96, 1) float batch."""
    images = np.zeros((len(keypoints), IMAGE_SIZE, IMAGE_SIZE), np.float32)
    for face, points in enumerate(keypoints.reshape(len(keypoints), -1, 2)):
        for x, y in points:
            row, col = pixel_of(y), pixel_of(x)
            images[face, row - 1 : row + 2, col - 1 : col + 2] = 255
    return images[..., None]


@pytest.mark.parametrize("mirror", [96.0, 95.0])
def test_blobs_stay_under_their_keypoints_through_flips_and_affines(mirror):
    rng = np.random.default_rng(0)
    keypoints = (rng.integers(18, 78, (16, 30)) + 0.3).astype(np.float32)
    pixel_of = PIXEL_OF[mirror]
    images = blob_faces(keypoints, pixel_of)
    out, moved = augment(
        images,
        keypoints,
        rng,
        mirror,
        flip_probability=0.5,
        max_rotation_deg=15,
        max_shift=4,
        scale_range=(0.9, 1.1),
    )
    out = keras.ops.convert_to_numpy(out)[..., 0]
    assert not np.isnan(moved).any()
    for face, points in enumerate(moved.reshape(16, -1, 2)):
        for x, y in points:
            assert out[face, pixel_of(y), pixel_of(x)] > 100


def test_a_pure_flip_mirrors_pixels_exactly_and_swaps_names():
    rng = np.random.default_rng(1)
    keypoints = (rng.integers(5, 90, (4, 30)) + 0.3).astype(np.float32)
    images = dotted_faces(keypoints, math.floor).astype(np.float32)[..., None]
    out, moved = augment(images, keypoints, rng, 96.0, flip_probability=1.0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out), images[:, :, ::-1], atol=1e-3)
    left_x, right_x = COLUMNS.index("left_eye_center_x"), COLUMNS.index("right_eye_center_x")
    np.testing.assert_allclose(moved[:, left_x], 96.0 - keypoints[:, right_x], atol=1e-4)


def test_no_augmentation_is_the_identity():
    rng = np.random.default_rng(2)
    keypoints = rng.uniform(10, 80, (3, 30)).astype(np.float32)
    keypoints[0, :6] = np.nan
    images = rng.uniform(0, 255, (3, 96, 96, 1)).astype(np.float32)
    out, moved = augment(images, keypoints, rng, 96.0, flip_probability=0.0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out), images, atol=1e-3)
    np.testing.assert_allclose(moved, keypoints, atol=1e-4, equal_nan=True)


def test_keypoints_pushed_out_of_the_frame_become_missing():
    keypoints = np.full((1, 30), 90.0, np.float32)
    images = np.zeros((1, 96, 96, 1), np.float32)
    _, moved = augment(
        images,
        keypoints,
        np.random.default_rng(0),
        96.0,
        flip_probability=0.0,
        scale_range=(1.2, 1.2),
    )
    assert np.isnan(moved).all()


def test_cutout_hides_one_square_of_the_chosen_faces_and_keeps_their_keypoints():
    rng = np.random.default_rng(3)
    keypoints = rng.uniform(10, 80, (40, 30)).astype(np.float32)
    images = rng.uniform(0, 255, (40, 96, 96, 1)).astype(np.float32)
    out, moved = augment(
        images, keypoints, rng, 96.0, flip_probability=0.0, cutout_probability=0.5, cutout_size=20
    )
    changed = (np.abs(keras.ops.convert_to_numpy(out) - images) > 1e-3)[..., 0]
    hidden = changed.sum(axis=(1, 2))
    assert 10 <= (hidden > 0).sum() <= 30  # about half the faces
    assert hidden.max() <= 20 * 20
    for face in np.flatnonzero(hidden > 100):  # one solid square (clipped at the edges)
        rows, cols = np.flatnonzero(changed[face].any(axis=1)), np.flatnonzero(changed[face].any(0))
        assert changed[face][rows.min() : rows.max() + 1, cols.min() : cols.max() + 1].mean() > 0.99
    np.testing.assert_allclose(moved, keypoints, atol=1e-4)
