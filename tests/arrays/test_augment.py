"""Augmentations keep keypoints on their features."""

import math

import numpy as np
import pytest

from facial_keypoints.arrays.augment import (
    apply_affine,
    brightness_contrast,
    contrast_stretch,
    flip_horizontal,
    inverse_blur,
    random_affine,
    random_flip,
    wiener_filter,
)
from facial_keypoints.domain.keypoints import COLUMNS, IMAGE_SIZE
from tests.conftest import dotted_faces, load_params

OFFLINE = load_params()["augment"].offline


def options(name: str) -> dict:
    """The base profile's options of one offline augmentation."""
    return {
        key: value for key, value in getattr(OFFLINE, name).model_dump().items() if key != "enabled"
    }


# With mirror=96 pixel c spans [c, c+1) (centre c + 0.5); with mirror=95 pixel c is centred on c.
PIXEL_OF = {96.0: math.floor, 95.0: round}


def random_keypoints(n: int, rng: np.random.Generator, margin: float = 2.0) -> np.ndarray:
    """Keypoints well inside the image, away from pixel borders so the pixel test is unambiguous."""
    points = rng.integers(int(margin), int(IMAGE_SIZE - margin), (n, 30)) + 0.3
    return points.astype(np.float32)


@pytest.fixture
def faces():
    rng = np.random.default_rng(0)
    keypoints = random_keypoints(4, rng)
    keypoints[1, 20:] = np.nan
    mask = (~np.isnan(keypoints)).astype(np.uint8)
    images = rng.integers(0, 256, (4, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    return images, keypoints, mask


def test_flip_is_its_own_inverse(faces):
    twice = flip_horizontal(*flip_horizontal(*faces, mirror=96.0), mirror=96.0)
    np.testing.assert_array_equal(twice[0], faces[0])
    np.testing.assert_allclose(twice[1], faces[1], atol=1e-4, equal_nan=True)
    np.testing.assert_array_equal(twice[2], faces[2])


def test_flip_does_not_modify_its_inputs(faces):
    copies = [a.copy() for a in faces]
    flip_horizontal(*faces, mirror=96.0)
    for before, after in zip(copies, faces, strict=True):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("mirror", [96.0, 95.0])
def test_flipped_dots_stay_under_their_swapped_keypoints(mirror):
    keypoints = random_keypoints(3, np.random.default_rng(1))
    pixel_of = PIXEL_OF[mirror]
    images = dotted_faces(keypoints, pixel_of)
    mask = np.ones_like(keypoints, dtype=np.uint8)
    flipped_images, flipped_keypoints, _ = flip_horizontal(images, keypoints, mask, mirror=mirror)
    left, right = COLUMNS.index("left_eye_center_x") // 2, COLUMNS.index("right_eye_center_x") // 2
    for face in range(3):
        points = flipped_keypoints[face].reshape(-1, 2)
        for k, (x, y) in enumerate(points):
            assert flipped_images[face, pixel_of(y), pixel_of(x)] > 0, (face, k)
        # The flipped face's left eye is the original right eye's dot (the names were swapped).
        x, y = points[left]
        assert flipped_images[face, pixel_of(y), pixel_of(x)] == 100 + 10 * right


def test_flip_with_the_wrong_convention_misses_the_dots():
    keypoints = random_keypoints(3, np.random.default_rng(2))
    images = dotted_faces(keypoints, math.floor)
    flipped_images, flipped_keypoints, _ = flip_horizontal(
        images, keypoints, np.ones_like(keypoints), mirror=95.0
    )
    points = flipped_keypoints.reshape(3, -1, 2)
    hits = [
        flipped_images[f, math.floor(y), math.floor(x)] > 0 for f in range(3) for x, y in points[f]
    ]
    assert not any(hits)


def test_random_flip_flips_about_half_and_keeps_the_rest(faces):
    images = np.repeat(faces[0][:1], 200, axis=0)
    keypoints = np.repeat(faces[1][:1], 200, axis=0)
    mask = np.repeat(faces[2][:1], 200, axis=0)
    out, _, _ = random_flip(
        images, keypoints, mask, np.random.default_rng(0), probability=0.5, mirror=96.0
    )
    flipped = (out == images[:, :, ::-1]).all(axis=(1, 2))
    unchanged = (out == images).all(axis=(1, 2))
    assert (flipped | unchanged).all()
    assert 70 < flipped.sum() < 130


@pytest.mark.parametrize("mirror", [96.0, 95.0])
def test_affine_moves_blobs_with_their_keypoints(mirror):
    rng = np.random.default_rng(3)
    keypoints = random_keypoints(6, rng, margin=15)
    images = np.zeros((6, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    pixel_of = PIXEL_OF[mirror]
    for face, points in enumerate(keypoints.reshape(6, -1, 2)):
        for x, y in points:
            row, col = pixel_of(y), pixel_of(x)
            images[face, row - 1 : row + 2, col - 1 : col + 2] = 255
    mask = np.ones_like(keypoints, dtype=np.uint8)
    out, moved, new_mask = random_affine(
        images,
        keypoints,
        mask,
        rng,
        max_rotation_deg=20,
        max_shift=5,
        scale_range=(0.9, 1.1),
        mirror=mirror,
    )
    assert not np.allclose(moved, keypoints)
    assert new_mask.all()
    for face, points in enumerate(moved.reshape(6, -1, 2)):
        for x, y in points:
            assert out[face, pixel_of(y), pixel_of(x)] > 128


def test_affine_identity_changes_nothing(faces):
    n = len(faces[0])
    out = apply_affine(*faces, np.repeat(np.eye(2)[None], n, 0), np.zeros((n, 2)), 96.0)
    np.testing.assert_array_equal(out[0], faces[0])
    np.testing.assert_allclose(out[1], faces[1], atol=1e-4, equal_nan=True)


def test_affine_marks_keypoints_that_leave_the_image_missing(faces):
    n = len(faces[0])
    out_images, moved, mask = apply_affine(
        *faces, np.repeat(np.eye(2)[None], n, 0), np.full((n, 2), [60.0, 0.0]), 96.0
    )
    gone = faces[1][:, 0::2] + 60 > IMAGE_SIZE
    assert (mask[:, 0::2] == 0)[gone].all() and (mask[:, 1::2] == 0)[gone].all()
    assert np.isnan(moved[:, 0::2][gone]).all()
    assert (mask[:, 0::2] == 1)[~gone & (faces[2][:, 0::2] == 1)].all()


@pytest.mark.parametrize(
    ("transform", "name"),
    [
        (brightness_contrast, "brightness_contrast"),
        (contrast_stretch, "contrast_stretch"),
        (inverse_blur, "inverse_blur"),
        (wiener_filter, "wiener_3x3"),
    ],
)
def test_photometric_filters_change_pixels_not_keypoints(faces, transform, name):
    images, keypoints, mask = faces
    out, new_keypoints, new_mask = transform(
        images, keypoints, mask, np.random.default_rng(0), **options(name)
    )
    assert out.dtype == np.uint8 and out.shape == images.shape
    assert not np.array_equal(out, images)
    np.testing.assert_allclose(new_keypoints, keypoints, equal_nan=True)
    np.testing.assert_array_equal(new_mask, mask)


def test_contrast_stretch_spans_the_full_range():
    dull = np.random.default_rng(0).integers(100, 140, (2, IMAGE_SIZE, IMAGE_SIZE)).astype(np.uint8)
    out, _, _ = contrast_stretch(
        dull, np.zeros((2, 30)), np.zeros((2, 30)), **options("contrast_stretch")
    )
    assert out.min() == 0 and out.max() == 255


def test_wiener_filter_removes_noise_and_9x9_smooths_more():
    rng = np.random.default_rng(0)
    noisy = np.clip(128 + rng.normal(0, 20, (2, IMAGE_SIZE, IMAGE_SIZE)), 0, 255).astype(np.uint8)
    blank = np.zeros((2, 30))
    small, _, _ = wiener_filter(noisy, blank, blank, size=3)
    large, _, _ = wiener_filter(noisy, blank, blank, size=9)
    assert large.std() < small.std() < noisy.std()


def test_inverse_blur_sharpens_an_edge():
    edge = np.zeros((1, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    edge[:, :, 48:] = 200
    edge[:, :, :48] = 50
    out, _, _ = inverse_blur(edge, np.zeros((1, 30)), np.zeros((1, 30)), **options("inverse_blur"))
    assert out[0, 10, 48] > 200 and out[0, 10, 47] < 50
