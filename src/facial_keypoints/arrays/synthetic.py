"""Offline demo data: procedurally drawn faces written in Kaggle's exact file format.

The kit needs Kaggle's ``training.csv``, ``test.csv``, ``IdLookupTable.csv`` and
``SampleSubmission.csv``. This module draws small stand-ins so that every pipeline runs
with no download: 96x96 grayscale cartoon faces (face oval, hair, eyes, eyebrows, nose,
lips) whose features sit exactly at their 15 keypoints, with Kaggle's pattern of missing
labels and Kaggle's layout of the lookup table.

Each face is drawn in a canonical frame around Kaggle's mean keypoints, with small
per-feature jitter; a similarity transform (scale, in-plane tilt, shift) maps it into the
image, and the keypoints go through the same transform. Pixel ``(column c, row r)`` has its
centre at ``(x, y) = (c + 0.5, r + 0.5)``, the frame the keypoints are given in.

``python -m facial_keypoints.tools.demo --out data/01_raw`` writes the four files; ``kedro run --env demo``
generates them when they are missing (``conf/demo/demo.yml``).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from facial_keypoints.domain.atomic import atomic_write
from facial_keypoints.domain.keypoints import (
    COLUMNS,
    COMMON_KEYPOINTS,
    IMAGE_COLUMN,
    IMAGE_ID_COLUMN,
    IMAGE_SIZE,
    KEYPOINTS,
    LOOKUP_COLUMNS,
    columns_of,
)

#: Kaggle's mean position of every keypoint; the canonical face is drawn around these.
MEAN_KEYPOINTS: dict[str, tuple[float, float]] = {
    "left_eye_center": (66.4, 37.7),
    "right_eye_center": (30.3, 37.6),
    "left_eye_inner_corner": (59.2, 37.9),
    "left_eye_outer_corner": (73.3, 37.7),
    "right_eye_inner_corner": (36.7, 37.9),
    "right_eye_outer_corner": (22.4, 38.0),
    "left_eyebrow_inner_end": (56.1, 29.3),
    "left_eyebrow_outer_end": (79.5, 29.9),
    "right_eyebrow_inner_end": (39.3, 29.6),
    "right_eyebrow_outer_end": (15.9, 30.4),
    "nose_tip": (48.4, 62.7),
    "mouth_left_corner": (63.3, 75.9),
    "mouth_right_corner": (32.9, 76.2),
    "mouth_center_top_lip": (47.9, 72.9),
    "mouth_center_bottom_lip": (48.6, 79.0),
}

#: Share of training rows (and of test images in the lookup table) with all 30 values.
FULL_SHARE = 0.3
#: Share of training rows with some other partial pattern (neither 30 nor 8 values).
OTHER_SHARE = 0.03

_TEMPLATE = np.array([MEAN_KEYPOINTS[kp] for kp in KEYPOINTS])
_K = {kp: i for i, kp in enumerate(KEYPOINTS)}
_CENTRE = (48.0, 52.0)  # centre of the face: the similarity transform pivots here
_PIXEL_CENTRES = np.arange(IMAGE_SIZE, dtype=np.float32) + 0.5
_MARGIN = 2.0  # keypoints stay at least this far inside the image
_CHUNK = 16  # faces rendered at once: keeps the working arrays in cache
_ZIPPED_STEMS = ("training", "test")  # Kaggle ships these two as zips
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed timestamp, so that zips are byte-identical


def _ids(*names: str) -> list[int]:
    """Indices of keypoints in KEYPOINTS order."""
    return [_K[name] for name in names]


_EYE_NAMES = tuple(kp for kp in KEYPOINTS if "_eye_" in kp)
_BROW_NAMES = tuple(kp for kp in KEYPOINTS if "_eyebrow_" in kp)
_MOUTH_NAMES = tuple(kp for kp in KEYPOINTS if kp.startswith("mouth_"))
_NOSE_NAMES = ("left_eye_inner_corner", "right_eye_inner_corner", "nose_tip")  # from the brow

_LEFT_EYE = _ids("left_eye_center", "left_eye_inner_corner", "left_eye_outer_corner")
_RIGHT_EYE = _ids("right_eye_center", "right_eye_inner_corner", "right_eye_outer_corner")
_LEFT_BROW = _ids("left_eyebrow_inner_end", "left_eyebrow_outer_end")
_RIGHT_BROW = _ids("right_eyebrow_inner_end", "right_eyebrow_outer_end")
_MOUTH = _ids(*_MOUTH_NAMES)
_NOSE = _ids("nose_tip")
_RARE_KEYPOINTS = [kp for kp in KEYPOINTS if kp not in COMMON_KEYPOINTS]
_PIXEL_TEXT = np.array([str(value) for value in range(256)], dtype=object)

#: Canonical (u, v) of a point, each of shape (k, 1, 1): one per face in a batch.
_Point = tuple[np.ndarray, np.ndarray]


# --------------------------------------------------------------------------- geometry


def _jittered_template(n: int, rng: np.random.Generator) -> np.ndarray:
    """Canonical keypoints (n, 15, 2): the mean face with per-face and per-feature jitter."""
    kp = np.repeat(_TEMPLATE[None], n, axis=0)
    spread = rng.normal(0.0, 1.2, (n, 1))  # eyes and brows further apart or closer
    kp[:, _LEFT_EYE + _LEFT_BROW, 0] += spread
    kp[:, _RIGHT_EYE + _RIGHT_BROW, 0] -= spread
    for centre, *corners in (_LEFT_EYE, _RIGHT_EYE):  # eye width
        width = rng.uniform(0.85, 1.15, (n, 1, 1))
        kp[:, corners] = kp[:, [centre]] + (kp[:, corners] - kp[:, [centre]]) * width
    stretch = rng.uniform(0.92, 1.08, (n, 1))  # longer or shorter lower face
    lower = _NOSE + _MOUTH
    kp[:, lower, 1] = 38.0 + (kp[:, lower, 1] - 38.0) * stretch
    left, right, top, bottom = _MOUTH
    corners = [left, right]
    mouth_x = kp[:, corners, 0].mean(axis=1, keepdims=True)
    width = rng.uniform(0.85, 1.2, (n, 1))
    kp[:, corners, 0] = mouth_x + (kp[:, corners, 0] - mouth_x) * width
    corner_y = kp[:, corners, 1].mean(axis=1)
    for lip in (top, bottom):  # lip thickness
        kp[:, lip, 1] = corner_y + (kp[:, lip, 1] - corner_y) * rng.uniform(0.75, 1.35, n)
    for group, sigma in (
        (_LEFT_EYE, 0.8),
        (_RIGHT_EYE, 0.8),
        (_LEFT_BROW, 1.0),
        (_RIGHT_BROW, 1.0),
        (_NOSE, 1.2),
        (_MOUTH, 1.2),
    ):
        kp[:, group] += rng.normal(0.0, sigma, (n, 1, 2))
    return kp + rng.normal(0.0, 0.4, kp.shape)


def _to_image(
    canonical: np.ndarray, scale: np.ndarray, angle: np.ndarray, shift: np.ndarray
) -> np.ndarray:
    """Map canonical points (n, m, 2) into the image: rotate and scale about the centre, shift."""
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    du = canonical[..., 0] - _CENTRE[0]
    dv = canonical[..., 1] - _CENTRE[1]
    s = scale[:, None]
    x = _CENTRE[0] + shift[:, [0]] + s * (cos * du - sin * dv)
    y = _CENTRE[1] + shift[:, [1]] + s * (sin * du + cos * dv)
    return np.stack([x, y], axis=-1)


# ------------------------------------------------------------------------- primitives
# The shapes take canonical pixel coordinates u, v of shape (k, 96, 96) and per-face
# parameters of shape (k, 1, 1); they return a signed distance in canonical pixels
# (negative inside), which _coverage turns into an anti-aliased opacity.


def _col(values: np.ndarray) -> np.ndarray:
    """Per-face values (k,) as float32 (k, 1, 1), to broadcast against the pixel grids."""
    return np.asarray(values, dtype=np.float32)[:, None, None]


def _coverage(distance: np.ndarray, soft: float = 1.0) -> np.ndarray:
    """Anti-aliased coverage in [0, 1] of a shape, from its signed distance."""
    return np.clip(0.5 - distance / soft, 0.0, 1.0)


def _ellipse(
    u: np.ndarray,
    v: np.ndarray,
    centre: _Point,
    half_axes: tuple[np.ndarray | float, np.ndarray | float],
    direction: _Point | None = None,
) -> np.ndarray:
    """Approximate signed distance to an ellipse; its first half-axis lies along direction."""
    along, across = u - centre[0], v - centre[1]
    if direction is not None:
        along, across = (
            along * direction[0] + across * direction[1],
            across * direction[0] - along * direction[1],
        )
    radius = np.sqrt((along / half_axes[0]) ** 2 + (across / half_axes[1]) ** 2)
    return (radius - 1.0) * np.minimum(half_axes[0], half_axes[1])


def _segment_frame(
    u: np.ndarray,
    v: np.ndarray,
    start: _Point,
    end: _Point,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Position along (0 at start, 1 at end) and across a segment, its length and unit x."""
    ex, ey = end[0] - start[0], end[1] - start[1]
    length = np.sqrt(ex**2 + ey**2)
    du, dv = u - start[0], v - start[1]
    t = (du * ex + dv * ey) / length**2
    across = (dv * ex - du * ey) / length
    return t, across, length, ex / length


def _stroke(
    u: np.ndarray,
    v: np.ndarray,
    start: _Point,
    end: _Point,
    radii: tuple[np.ndarray | float, np.ndarray | float],
    arch: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Signed distance to a round-capped stroke, tapering between radii and arched upwards."""
    t, across, length, unit_x = _segment_frame(u, v, start, end)
    tc = np.clip(t, 0.0, 1.0)
    centre_line = -arch * 4.0 * tc * (1.0 - tc) * unit_x  # "up" is -v, whatever the direction
    distance = np.sqrt(((t - tc) * length) ** 2 + (across - centre_line) ** 2)
    return distance - (radii[0] + (radii[1] - radii[0]) * tc)


def _lips(
    u: np.ndarray,
    v: np.ndarray,
    right: _Point,
    left: _Point,
    top: _Point,
    bottom: _Point,
) -> np.ndarray:
    """Signed distance to the lips: corner to corner, reaching just past both lip centres."""
    t, across, length, _ = _segment_frame(u, v, right, left)
    _, top_across, _, _ = _segment_frame(*top, right, left)
    _, bottom_across, _, _ = _segment_frame(*bottom, right, left)
    s = 2.0 * t - 1.0
    profile = np.clip(1.0 - s**2, 0.0, 1.0) ** 0.6
    upper = (0.6 - top_across) * profile
    lower = (bottom_across + 0.6) * profile
    distance = np.maximum(-upper - across, across - lower)
    return np.maximum(distance, (np.abs(s) - 1.0) * length / 2.0)


# -------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class _Canvas:
    """A batch of k faces being drawn, or a window of it: pixel grids, keypoints, image."""

    u: np.ndarray  # canonical coordinates of every pixel centre, (k, rows, columns)
    v: np.ndarray
    image: np.ndarray  # float32 intensities in [0, 1], (k, rows, columns)
    canonical: np.ndarray  # canonical keypoints, (k, 15, 2)
    keypoints: np.ndarray  # the same keypoints in the image, (k, 15, 2)
    reach: float  # the largest scale in the batch: image pixels per canonical pixel
    rng: np.random.Generator

    @classmethod
    def for_faces(
        cls,
        canonical: np.ndarray,
        scale: np.ndarray,
        angle: np.ndarray,
        shift: np.ndarray,
        rng: np.random.Generator,
    ) -> _Canvas:
        """A blank canvas whose pixel centres are mapped back into the canonical frame."""
        cos, sin, s = _col(np.cos(angle)), _col(np.sin(angle)), _col(scale)
        dx = _PIXEL_CENTRES[None, None, :] - _CENTRE[0] - _col(shift[:, 0])
        dy = _PIXEL_CENTRES[None, :, None] - _CENTRE[1] - _col(shift[:, 1])
        return cls(
            u=_CENTRE[0] + (cos * dx + sin * dy) / s,
            v=_CENTRE[1] + (cos * dy - sin * dx) / s,
            image=np.zeros((len(canonical), IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32),
            canonical=canonical,
            keypoints=_to_image(canonical, scale, angle, shift),
            reach=float(scale.max()),
            rng=rng,
        )

    def window(self, names: tuple[str, ...], margin: float) -> _Canvas:
        """A view of the pixels within margin canonical pixels of the named keypoints.

        Features only paint near their keypoints; drawing them in a window saves most of
        the work. Painting into the window paints into this canvas.
        """
        points = self.keypoints[:, _ids(*names)].reshape(-1, 2)
        pad = margin * self.reach
        low = np.clip(np.floor(points.min(axis=0) - pad), 0, IMAGE_SIZE).astype(int)
        high = np.clip(np.ceil(points.max(axis=0) + pad), 0, IMAGE_SIZE).astype(int)
        part = np.s_[:, low[1] : high[1], low[0] : high[0]]
        return replace(self, u=self.u[part], v=self.v[part], image=self.image[part])

    def point(self, name: str, du: float = 0.0, dv: float = 0.0) -> _Point:
        """Canonical position of a keypoint, optionally moved by (du, dv)."""
        i = _K[name]
        return _col(self.canonical[:, i, 0]) + du, _col(self.canonical[:, i, 1]) + dv

    def uniform(self, low: float, high: float) -> np.ndarray:
        """One random value per face, shaped (k, 1, 1)."""
        return _col(self.rng.uniform(low, high, len(self.canonical)))

    def paint(self, alpha: np.ndarray, colour: np.ndarray | float) -> None:
        """Composite a colour over the image, in place, with the given opacity."""
        self.image[...] += alpha * (colour - self.image)


def _draw_head(canvas: _Canvas, skin: np.ndarray) -> None:
    """Background, hair behind the head, neck, a shaded face oval and a fringe."""
    u, v = canvas.u, canvas.v
    ramp = _PIXEL_CENTRES[:, None] / IMAGE_SIZE - 0.5
    canvas.image[:] = canvas.uniform(0.1, 0.9) + canvas.uniform(-0.15, 0.15) * ramp
    hair = canvas.uniform(0.05, 0.45)
    back = _ellipse(u, v, (48.0, 40.0), (47.0, canvas.uniform(30.0, 48.0)))
    canvas.paint(_coverage(back), hair)
    canvas.paint(_coverage(np.maximum(np.abs(u - 48.0) - 19.0, 76.0 - v)), skin * 0.8)
    face = _ellipse(u, v, (48.0, 52.0), (41.0, 44.0))
    rim = np.clip(1.0 + face / 41.0, 0.0, 1.0) ** 4  # 0 in the middle, 1 at the edge
    canvas.paint(_coverage(face), skin * (1.0 - 0.3 * rim))
    hairline = canvas.uniform(9.0, 15.0) + 0.01 * (u - 48.0) ** 2
    canvas.paint(_coverage(np.maximum(face, v - hairline), 2.0), hair)


def _draw_eyebrows(canvas: _Canvas) -> None:
    """Thick dark strokes from inner to outer end, thicker at the inner end, arched."""
    colour = canvas.uniform(0.08, 0.3)
    for side in ("left", "right"):
        inner = canvas.point(f"{side}_eyebrow_inner_end")
        outer = canvas.point(f"{side}_eyebrow_outer_end")
        radii = canvas.uniform(1.6, 2.3), canvas.uniform(1.1, 1.5)
        brow = _stroke(canvas.u, canvas.v, inner, outer, radii, canvas.uniform(0.5, 2.0))
        canvas.paint(0.9 * _coverage(brow), colour)


def _draw_eyes(canvas: _Canvas, dark: np.ndarray) -> None:
    """Socket shade, eye white from corner to corner, iris and pupil, eyelid line."""
    u, v = canvas.u, canvas.v
    white, iris = canvas.uniform(0.8, 0.95), canvas.uniform(0.1, 0.35)
    for side in ("left", "right"):
        centre = canvas.point(f"{side}_eye_center")
        inner = canvas.point(f"{side}_eye_inner_corner")
        outer = canvas.point(f"{side}_eye_outer_corner")
        middle = (inner[0] + outer[0]) / 2.0, (inner[1] + outer[1]) / 2.0
        _, _, length, unit_x = _segment_frame(u, v, outer, inner)
        direction = unit_x, (inner[1] - outer[1]) / length
        half = length / 2.0
        socket_axes = half + 2.5, half * 0.45 + 3.0
        socket = _ellipse(u, v, (middle[0], middle[1] - 1.0), socket_axes, direction)
        canvas.paint(0.25 * _coverage(socket, 4.0), dark)
        eye = _ellipse(u, v, middle, (half, half * canvas.uniform(0.38, 0.48)), direction)
        inside = _coverage(eye, 0.8)
        canvas.paint(inside, white)
        from_centre = np.sqrt((u - centre[0]) ** 2 + (v - centre[1]) ** 2)
        canvas.paint(inside * _coverage(from_centre - 0.42 * half), iris)
        canvas.paint(inside * _coverage(from_centre - 1.3), 0.03)
        canvas.paint(0.8 * _coverage(np.abs(eye + 0.2) - 0.6, 0.8), dark)


def _draw_nose(canvas: _Canvas, dark: np.ndarray) -> None:
    """Shaded flanks from between the eyes down to the nostrils, a shadow under the tip."""
    u, v = canvas.u, canvas.v
    inner_left = canvas.point("left_eye_inner_corner")
    inner_right = canvas.point("right_eye_inner_corner")
    between = (inner_left[0] + inner_right[0]) / 2.0, (inner_left[1] + inner_right[1]) / 2.0
    for sign in (-1.0, 1.0):
        top = between[0] + 3.0 * sign, between[1] + 4.0
        flank = _stroke(u, v, top, canvas.point("nose_tip", 4.5 * sign, -1.5), (0.6, 1.0))
        canvas.paint(0.3 * _coverage(flank, 2.0), dark)
        nostril = _ellipse(u, v, canvas.point("nose_tip", 3.0 * sign, 1.6), (1.8, 1.1))
        canvas.paint(0.75 * _coverage(nostril), dark)
    shadow = _ellipse(u, v, canvas.point("nose_tip", 0.0, 0.6), (4.5, 2.2))
    canvas.paint(0.4 * _coverage(shadow, 2.0), dark)


def _draw_mouth(canvas: _Canvas, skin: np.ndarray, dark: np.ndarray) -> None:
    """Lips from corner to corner around both lip centres, and a dark parting line."""
    corners = canvas.point("mouth_right_corner"), canvas.point("mouth_left_corner")
    top, bottom = canvas.point("mouth_center_top_lip"), canvas.point("mouth_center_bottom_lip")
    lips = _lips(canvas.u, canvas.v, *corners, top, bottom)
    canvas.paint(_coverage(lips, 0.8), skin * canvas.uniform(0.45, 0.65))
    parting = _stroke(canvas.u, canvas.v, *corners, (0.9, 0.9))
    canvas.paint(0.9 * _coverage(parting, 0.8), dark)


def _lit(canvas: _Canvas) -> np.ndarray:
    """The image under random contrast, brightness, linear illumination and noise, as uint8."""
    x = (_PIXEL_CENTRES[None, None, :] - 48.0) / 48.0
    y = (_PIXEL_CENTRES[None, :, None] - 48.0) / 48.0
    image = canvas.uniform(0.75, 1.2) * (canvas.image - 0.5) + 0.5 + canvas.uniform(-0.1, 0.1)
    image += canvas.uniform(-0.12, 0.12) * x + canvas.uniform(-0.12, 0.12) * y
    noise = canvas.rng.standard_normal(image.shape, dtype=np.float32)
    image += canvas.uniform(0.005, 0.03) * noise
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


def draw_faces(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw n faces: images uint8 (n, 96, 96) and all 30 keypoint values float32 (n, 30)."""
    canonical = _jittered_template(n, rng)
    scale = rng.uniform(0.85, 1.15, n)
    angle = np.deg2rad(rng.uniform(-15.0, 15.0, n))
    unshifted = _to_image(canonical, scale, angle, np.zeros((n, 2)))
    low = _MARGIN - unshifted.min(axis=1)  # the shift that keeps every keypoint inside
    high = IMAGE_SIZE - _MARGIN - unshifted.max(axis=1)
    shift = np.clip(rng.uniform(-4.0, 4.0, (n, 2)), low, high)
    images = np.empty((n, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    for start in range(0, n, _CHUNK):
        part = slice(start, start + _CHUNK)
        canvas = _Canvas.for_faces(canonical[part], scale[part], angle[part], shift[part], rng)
        skin, dark = canvas.uniform(0.5, 0.8), canvas.uniform(0.05, 0.2)
        _draw_head(canvas, skin)
        _draw_eyebrows(canvas.window(_BROW_NAMES, 6.0))
        _draw_eyes(canvas.window(_EYE_NAMES, 10.0), dark)
        _draw_nose(canvas.window(_NOSE_NAMES, 8.0), dark)
        _draw_mouth(canvas.window(_MOUTH_NAMES, 4.0), skin, dark)
        images[part] = _lit(canvas)
    keypoints = _to_image(canonical, scale, angle, shift).reshape(n, len(COLUMNS))
    return images, keypoints.astype(np.float32)


# ------------------------------------------------------------------------------ files


def _label_mask(n: int, rng: np.random.Generator) -> np.ndarray:
    """Which of the 30 values each training row has (n, 30), in Kaggle's pattern."""
    n_full, n_other = round(FULL_SHARE * n), round(OTHER_SHARE * n)
    kinds = rng.permutation(
        np.repeat(["full", "other", "common"], [n_full, n_other, n - n_full - n_other])
    )
    mask = np.zeros((n, len(COLUMNS)), dtype=bool)
    mask[:, columns_of(COMMON_KEYPOINTS)] = True
    mask[kinds != "common"] = True
    for row in np.flatnonzero(kinds == "other"):
        dropped = rng.choice(_RARE_KEYPOINTS, size=rng.integers(1, 5), replace=False)
        mask[row, columns_of(dropped.tolist())] = False
    return mask


def _image_cells(images: np.ndarray) -> list[str]:
    """Kaggle's Image cells: 9216 space-separated ints per image, row-major."""
    return [" ".join(_PIXEL_TEXT[image.ravel()]) for image in images]


def make_demo_frames(
    n_train: int = 600, n_test: int = 150, seed: int = 0
) -> dict[str, pd.DataFrame]:
    """Kaggle's four tables, keyed by file stem: training, test, IdLookupTable, SampleSubmission."""
    train_rng, test_rng, mask_rng, lookup_rng = (
        np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(4)
    )
    train_images, train_keypoints = draw_faces(n_train, train_rng)
    labels = np.where(
        _label_mask(n_train, mask_rng), train_keypoints.astype(np.float64).round(6), np.nan
    )
    training = pd.DataFrame(labels, columns=list(COLUMNS))
    training[IMAGE_COLUMN] = _image_cells(train_images)

    test_images, _ = draw_faces(n_test, test_rng)
    image_ids = np.arange(1, n_test + 1)
    test = pd.DataFrame({IMAGE_ID_COLUMN: image_ids, IMAGE_COLUMN: _image_cells(test_images)})

    full = np.zeros(n_test, dtype=bool)
    full[lookup_rng.choice(n_test, size=round(FULL_SHARE * n_test), replace=False)] = True
    common = [COLUMNS[i] for i in columns_of(COMMON_KEYPOINTS)]
    pairs = [
        (i, name)
        for i, is_full in zip(image_ids, full)
        for name in (COLUMNS if is_full else common)
    ]
    row_ids, ids, names, locations = LOOKUP_COLUMNS
    lookup = pd.DataFrame(pairs, columns=[ids, names])
    lookup.insert(0, row_ids, np.arange(1, len(lookup) + 1))
    lookup[locations] = np.nan
    submission = pd.DataFrame({row_ids: lookup[row_ids], locations: 0})
    return {
        "training": training,
        "test": test,
        "IdLookupTable": lookup,
        "SampleSubmission": submission,
    }


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    """A table as Kaggle's CSV: header, no index, '\\n' line ends, empty cells for NaN."""
    return frame.to_csv(index=False, lineterminator="\n").encode()


def _zip_bytes(name: str, data: bytes) -> bytes:
    """A zip archive holding one file, with a fixed timestamp so that it is reproducible."""
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(info, data)
    return buffer.getvalue()


def write_demo_files(
    folder: str | Path,
    n_train: int = 600,
    n_test: int = 150,
    seed: int = 0,
    zipped: bool = False,
) -> list[Path]:
    """Write Kaggle's four files into folder (training and test as zips if zipped)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, frame in make_demo_frames(n_train, n_test, seed).items():
        data = _csv_bytes(frame)
        if zipped and stem in _ZIPPED_STEMS:
            path, data = folder / f"{stem}.zip", _zip_bytes(f"{stem}.csv", data)
        else:
            path = folder / f"{stem}.csv"
        atomic_write(path, lambda tmp, data=data: tmp.write_bytes(data))
        written.append(path)
    return written
