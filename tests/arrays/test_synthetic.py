"""Tests of the offline demo data: faces whose features sit at their keypoints, Kaggle's files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from facial_keypoints.arrays.synthetic import draw_faces, make_demo_frames, write_demo_files
from facial_keypoints.domain.keypoints import (
    COLUMN_INDEX,
    COLUMNS,
    COMMON_KEYPOINTS,
    IMAGE_SIZE,
    KEYPOINTS,
    LOOKUP_COLUMNS,
    N_PIXELS,
    columns_of,
)
from facial_keypoints.tools.demo import main

N_FACES = 64
FILES = ["training.csv", "test.csv", "IdLookupTable.csv", "SampleSubmission.csv"]


def _point(keypoints: np.ndarray, name: str) -> np.ndarray:
    """(x, y) of one keypoint in a row of 30 values."""
    return keypoints[[COLUMN_INDEX[f"{name}_x"], COLUMN_INDEX[f"{name}_y"]]]


def _pixel(image: np.ndarray, point: np.ndarray) -> float:
    """Value of the pixel containing a point: pixel (c, r) spans [c, c+1) x [r, r+1)."""
    column, row = np.clip(np.floor(point).astype(int), 0, IMAGE_SIZE - 1)
    return float(image[row, column])


def _patch(image: np.ndarray, point: np.ndarray) -> np.ndarray:
    """The 3x3 pixels around the pixel containing a point."""
    column, row = np.clip(np.floor(point).astype(int), 1, IMAGE_SIZE - 2)
    return image[row - 1 : row + 2, column - 1 : column + 2].astype(float)


def _features_at_keypoints(image: np.ndarray, keypoints: np.ndarray) -> bool:
    """Whether the drawn features sit at the keypoints of one face.

    Skin is sampled on the forehead and both cheeks, placed relative to the keypoints.
    Eye centres must be darker than the eye white towards both corners and than skin;
    eyebrow ends, mouth corners, lip centres and the nose tip must be darker than skin.
    """
    p = {name: _point(keypoints, name) for name in KEYPOINTS}
    across = p["left_eye_center"] - p["right_eye_center"]
    up = np.array([across[1], -across[0]]) / np.linalg.norm(across)
    outward = across / np.linalg.norm(across)
    forehead = (p["left_eyebrow_inner_end"] + p["right_eyebrow_inner_end"]) / 2 + 6 * up
    cheeks = [
        p[f"{side}_eye_center"]
        + 0.55 * (p[f"mouth_{side}_corner"] - p[f"{side}_eye_center"])
        + 5 * sign * outward
        for side, sign in (("left", 1), ("right", -1))
    ]
    skin = np.median([_patch(image, q) for q in (forehead, *cheeks)])
    for side in ("left", "right"):
        centre = p[f"{side}_eye_center"]
        iris = _patch(image, centre).mean()
        whites = [
            _pixel(image, centre + 0.65 * (p[f"{side}_eye_{end}_corner"] - centre))
            for end in ("inner", "outer")
        ]
        if not iris < min(*whites, skin):
            return False
    dark = [
        f"{side}_eyebrow_{end}_end" for side in ("left", "right") for end in ("inner", "outer")
    ] + [
        "mouth_left_corner",
        "mouth_right_corner",
        "mouth_center_top_lip",
        "mouth_center_bottom_lip",
        "nose_tip",
    ]
    return all(_pixel(image, p[name]) < skin for name in dark)


def _share_on_features(images: np.ndarray, keypoints: np.ndarray) -> float:
    """Share of faces whose features sit at their keypoints."""
    return float(np.mean([_features_at_keypoints(i, k) for i, k in zip(images, keypoints)]))


@pytest.fixture(scope="module")
def faces() -> tuple[np.ndarray, np.ndarray]:
    """A batch of drawn faces and their keypoints."""
    return draw_faces(N_FACES, np.random.default_rng(7))


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    """Kaggle's four tables, small."""
    return make_demo_frames(n_train=200, n_test=40, seed=3)


def _parse_images(cells: pd.Series) -> np.ndarray:
    """Kaggle's Image cells back to uint8 images (n, 96, 96), checking every cell."""
    pixels = np.array([np.array(cell.split(" "), dtype=int) for cell in cells])
    assert pixels.shape == (len(cells), N_PIXELS)
    assert pixels.min() >= 0 and pixels.max() <= 255
    return pixels.reshape(-1, IMAGE_SIZE, IMAGE_SIZE).astype(np.uint8)


# ----------------------------------------------------------------------------- faces


def test_draw_faces_shapes_and_range(faces: tuple[np.ndarray, np.ndarray]) -> None:
    images, keypoints = faces
    assert images.shape == (N_FACES, IMAGE_SIZE, IMAGE_SIZE) and images.dtype == np.uint8
    assert keypoints.shape == (N_FACES, len(COLUMNS)) and keypoints.dtype == np.float32
    assert np.isfinite(keypoints).all()
    assert keypoints.min() >= 0 and keypoints.max() <= IMAGE_SIZE
    assert images.std(axis=(1, 2)).min() > 10  # a drawing, not a flat field


def test_keypoints_look_like_kaggle(faces: tuple[np.ndarray, np.ndarray]) -> None:
    _, keypoints = faces
    mean = keypoints.mean(axis=0)
    assert _point(mean, "left_eye_center") == pytest.approx([66.4, 37.7], abs=2.0)
    assert _point(mean, "right_eye_center") == pytest.approx([30.3, 37.6], abs=2.0)
    assert _point(mean, "nose_tip") == pytest.approx([48.4, 62.7], abs=2.0)
    assert _point(mean, "mouth_center_bottom_lip") == pytest.approx([48.6, 79.0], abs=2.0)
    # Subject's left is on the image's right, in every face.
    left = keypoints[:, COLUMN_INDEX["left_eye_center_x"]]
    right = keypoints[:, COLUMN_INDEX["right_eye_center_x"]]
    assert (left > right).all()
    # Faces vary: position, scale and tilt move the keypoints by a few pixels.
    assert keypoints.std(axis=0).min() > 1.5


def test_features_sit_at_the_keypoints(faces: tuple[np.ndarray, np.ndarray]) -> None:
    images, keypoints = faces
    assert _share_on_features(images, keypoints) >= 0.95


def test_check_catches_mirrored_images(faces: tuple[np.ndarray, np.ndarray]) -> None:
    images, keypoints = faces
    assert _share_on_features(images[:, :, ::-1], keypoints) <= 0.2


def test_check_catches_swapped_x_and_y(faces: tuple[np.ndarray, np.ndarray]) -> None:
    images, keypoints = faces
    swapped = keypoints.reshape(-1, len(COLUMNS) // 2, 2)[..., ::-1].reshape(keypoints.shape)
    assert _share_on_features(images, swapped) <= 0.1
    assert _share_on_features(images.transpose(0, 2, 1), keypoints) <= 0.1


def _pupil_offset(images: np.ndarray, keypoints: np.ndarray, name: str) -> np.ndarray:
    """Mean (dx, dy) from a keypoint to the darkness centroid of the 5x5 pixels around it."""
    offsets = []
    for image, point in zip(images, keypoints):
        x, y = _point(point, name)
        column, row = int(x), int(y)
        window = image[row - 2 : row + 3, column - 2 : column + 3].astype(float)
        weight = (window.max() - window) ** 2
        rows, columns = np.mgrid[row - 2 : row + 3, column - 2 : column + 3] + 0.5
        centroid = np.array([(weight * columns).sum(), (weight * rows).sum()]) / weight.sum()
        offsets.append(centroid - (x, y))
    return np.mean(offsets, axis=0)


def test_pupils_at_eye_centres_to_subpixel(faces: tuple[np.ndarray, np.ndarray]) -> None:
    """Pixel (c, r) is centred at (c + 0.5, r + 0.5): a half-pixel slip would show."""
    images, keypoints = faces
    for name in ("left_eye_center", "right_eye_center"):
        assert np.abs(_pupil_offset(images, keypoints, name)).max() < 0.12
        assert np.abs(_pupil_offset(images, keypoints + 0.5, name)).max() > 0.15


def test_draw_faces_is_reproducible() -> None:
    first = draw_faces(5, np.random.default_rng(1))
    second = draw_faces(5, np.random.default_rng(1))
    third = draw_faces(5, np.random.default_rng(2))
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not np.array_equal(first[0], third[0])


# ---------------------------------------------------------------------------- tables


def test_frames_have_kaggles_columns(frames: dict[str, pd.DataFrame]) -> None:
    assert list(frames) == ["training", "test", "IdLookupTable", "SampleSubmission"]
    assert list(frames["training"].columns) == [*COLUMNS, "Image"]
    assert list(frames["test"].columns) == ["ImageId", "Image"]
    assert list(frames["IdLookupTable"].columns) == list(LOOKUP_COLUMNS)
    assert list(frames["SampleSubmission"].columns) == ["RowId", "Location"]
    assert len(frames["training"]) == 200 and len(frames["test"]) == 40
    assert frames["test"]["ImageId"].tolist() == list(range(1, 41))


def test_image_cells_are_9216_pixels(frames: dict[str, pd.DataFrame]) -> None:
    for name in ("training", "test"):
        images = _parse_images(frames[name]["Image"])
        assert images.std() > 10


def test_training_labels_sit_on_the_parsed_images(frames: dict[str, pd.DataFrame]) -> None:
    """End to end: row-major pixels and x/y order survive the trip through the table."""
    training = frames["training"]
    complete = training[training[list(COLUMNS)].notna().all(axis=1)]
    images = _parse_images(complete["Image"])
    keypoints = complete[list(COLUMNS)].to_numpy()
    assert _share_on_features(images, keypoints) >= 0.95
    assert _share_on_features(images.transpose(0, 2, 1), keypoints) <= 0.1


def test_training_missing_pattern(frames: dict[str, pd.DataFrame]) -> None:
    labels = frames["training"][list(COLUMNS)]
    present = labels.notna().to_numpy()
    counts = present.sum(axis=1)
    assert abs((counts == len(COLUMNS)).mean() - 0.3) <= 0.05
    patterns = pd.Series([tuple(row) for row in present[counts < len(COLUMNS)]])
    most_common = np.array(patterns.value_counts().index[0])
    assert np.flatnonzero(most_common).tolist() == columns_of(COMMON_KEYPOINTS)
    assert (counts == 8).mean() > 0.5
    others = counts[(counts != 8) & (counts != len(COLUMNS))]
    assert 0 < len(others) <= 0.1 * len(counts)
    assert (others % 2 == 0).all() and (others > 8).all()  # whole keypoints go missing
    values = labels.to_numpy()[present]
    assert np.array_equal(values, values.round(6))


def test_lookup_table(frames: dict[str, pd.DataFrame]) -> None:
    lookup, test = frames["IdLookupTable"], frames["test"]
    assert lookup["RowId"].tolist() == list(range(1, len(lookup) + 1))
    assert set(lookup["FeatureName"]) <= set(COLUMNS)
    assert set(lookup["ImageId"]) == set(test["ImageId"])
    assert lookup["Location"].isna().all()
    common = [COLUMNS[i] for i in columns_of(COMMON_KEYPOINTS)]
    features = lookup.groupby("ImageId", sort=True)["FeatureName"].agg(list)
    assert all(names in (list(COLUMNS), common) for names in features)
    full = features.map(len) == len(COLUMNS)
    assert abs(full.mean() - 0.3) <= 0.05
    submission = frames["SampleSubmission"]
    assert submission["RowId"].tolist() == lookup["RowId"].tolist()


# ----------------------------------------------------------------------------- files


def test_files_round_trip_and_are_reproducible(
    tmp_path: Path, frames: dict[str, pd.DataFrame]
) -> None:
    paths = write_demo_files(tmp_path / "a", n_train=200, n_test=40, seed=3)
    assert [p.name for p in paths] == FILES
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(FILES)  # no temp files
    again = write_demo_files(tmp_path / "b", n_train=200, n_test=40, seed=3)
    assert all(p.read_bytes() == q.read_bytes() for p, q in zip(paths, again))
    other = write_demo_files(tmp_path / "c", n_train=200, n_test=40, seed=4)
    assert paths[0].read_bytes() != other[0].read_bytes()
    for path, frame in zip(paths, frames.values()):
        pd.testing.assert_frame_equal(pd.read_csv(path), frame, check_dtype=False)
    text = paths[0].read_text()
    assert "nan" not in text.lower() and ",," in text  # missing values are empty cells
    assert paths[2].read_text().splitlines()[1] == "1,1,left_eye_center_x,"


def test_zipped_files(tmp_path: Path) -> None:
    paths = write_demo_files(tmp_path, n_train=30, n_test=10, seed=5, zipped=True)
    assert [p.name for p in paths] == ["training.zip", "test.zip", *FILES[2:]]
    plain = write_demo_files(tmp_path / "plain", n_train=30, n_test=10, seed=5)
    for archive, csv in zip(paths[:2], plain[:2]):
        with zipfile.ZipFile(archive) as z:
            assert z.namelist() == [csv.name]
            assert z.read(csv.name) == csv.read_bytes()
        pd.testing.assert_frame_equal(pd.read_csv(archive), pd.read_csv(csv))
    again = write_demo_files(tmp_path / "again", n_train=30, n_test=10, seed=5, zipped=True)
    assert paths[0].read_bytes() == again[0].read_bytes()


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--out", str(tmp_path), "--n-train", "12", "--n-test", "4", "--seed", "1", "--zipped"])
    printed = capsys.readouterr().out
    for name in ("training.zip", "test.zip", *FILES[2:]):
        assert (tmp_path / name).is_file() and name in printed
    assert len(pd.read_csv(tmp_path / "training.zip")) == 12
