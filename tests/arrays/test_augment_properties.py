"""Property-based tests: for random transforms, keypoints stay on their features and inverses restore them."""

import math

import keras
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from facial_keypoints.arrays.augment import apply_affine, flip_horizontal
from facial_keypoints.domain.keypoints import IMAGE_SIZE
from tests.conftest import augment

mirrors = st.sampled_from([95.0, 96.0])
angles = st.floats(-20, 20)
scales = st.floats(0.85, 1.15)
shifts = st.floats(-5, 5)


def one_face(seed: int, mirror: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A black face with a 3x3 white blob on each of 15 keypoints placed well inside the frame."""
    rng = np.random.default_rng(seed)
    keypoints = (rng.integers(24, 72, (1, 30)) + 0.3).astype(np.float32)
    pixel_of = math.floor if mirror == 96.0 else round
    image = np.zeros((1, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    for x, y in keypoints.reshape(-1, 2):
        image[0, pixel_of(y) - 1 : pixel_of(y) + 2, pixel_of(x) - 1 : pixel_of(x) + 2] = 255
    return image, keypoints, np.ones_like(keypoints, dtype=np.uint8)


def matrix(angle: float, scale: float) -> np.ndarray:
    radians = np.deg2rad(angle)
    return scale * np.array(
        [[np.cos(radians), -np.sin(radians)], [np.sin(radians), np.cos(radians)]]
    )


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000), mirror=mirrors, angle=angles, scale=scales, dx=shifts, dy=shifts
)
def test_random_affines_keep_keypoints_on_their_blobs(seed, mirror, angle, scale, dx, dy):
    image, keypoints, mask = one_face(seed, mirror)
    out, moved, _ = apply_affine(
        image, keypoints, mask, matrix(angle, scale)[None], np.array([[dx, dy]]), mirror
    )
    pixel_of = math.floor if mirror == 96.0 else round
    for x, y in moved.reshape(-1, 2):
        assert out[0, pixel_of(y), pixel_of(x)] > 100


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000), mirror=mirrors, angle=angles, scale=scales, dx=shifts, dy=shifts
)
def test_the_inverse_affine_restores_the_keypoints(seed, mirror, angle, scale, dx, dy):
    image, keypoints, mask = one_face(seed, mirror)
    forward = matrix(angle, scale)
    _, moved, _ = apply_affine(image, keypoints, mask, forward[None], np.array([[dx, dy]]), mirror)
    inverse = np.linalg.inv(forward)
    back_shift = -inverse @ np.array([dx, dy])
    _, restored, _ = apply_affine(image, moved, mask, inverse[None], back_shift[None], mirror)
    np.testing.assert_allclose(restored, keypoints, atol=1e-3)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), mirror=mirrors)
def test_flip_twice_is_the_identity(seed, mirror):
    image, keypoints, mask = one_face(seed, mirror)
    twice = flip_horizontal(*flip_horizontal(image, keypoints, mask, mirror=mirror), mirror=mirror)
    np.testing.assert_array_equal(twice[0], image)
    np.testing.assert_allclose(twice[1], keypoints, atol=1e-4)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), mirror=mirrors, angle=st.floats(0, 15), flip=st.floats(0, 1))
def test_keras_ops_augmentation_keeps_keypoints_on_their_blobs(seed, mirror, angle, flip):
    image, keypoints, _ = one_face(seed, mirror)
    out, moved = augment(
        image[..., None].astype(np.float32),
        keypoints,
        np.random.default_rng(seed),
        mirror,
        flip_probability=flip,
        max_rotation_deg=angle,
        max_shift=4.0,
        scale_range=(0.9, 1.1),
    )
    out = keras.ops.convert_to_numpy(out)[0, ..., 0]
    pixel_of = math.floor if mirror == 96.0 else round
    for x, y in moved.reshape(-1, 2):
        assert out[pixel_of(y), pixel_of(x)] > 100
