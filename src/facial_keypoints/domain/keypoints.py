"""The domain's vocabulary: image size, the 15 keypoints, their 30 columns, flip pairs, specialist groups.

Every pipeline imports these names from here instead of repeating lists. "Left" and "right" are the
subject's, as in Kaggle's data: the left eye appears on the image's right (larger x).
"""

from __future__ import annotations

IMAGE_SIZE = 96
N_PIXELS = IMAGE_SIZE * IMAGE_SIZE

KEYPOINTS: tuple[str, ...] = (
    "left_eye_center",
    "right_eye_center",
    "left_eye_inner_corner",
    "left_eye_outer_corner",
    "right_eye_inner_corner",
    "right_eye_outer_corner",
    "left_eyebrow_inner_end",
    "left_eyebrow_outer_end",
    "right_eyebrow_inner_end",
    "right_eyebrow_outer_end",
    "nose_tip",
    "mouth_left_corner",
    "mouth_right_corner",
    "mouth_center_top_lip",
    "mouth_center_bottom_lip",
)

#: The 30 keypoint columns in Kaggle's order: x then y of each keypoint.
COLUMNS: tuple[str, ...] = tuple(f"{kp}_{axis}" for kp in KEYPOINTS for axis in ("x", "y"))
COLUMN_INDEX: dict[str, int] = {name: i for i, name in enumerate(COLUMNS)}
#: Indices of all 30 columns (a list: NumPy reads a tuple index as one index per axis).
ALL_COLUMNS: list[int] = list(range(len(COLUMNS)))
X_COLUMNS: tuple[int, ...] = tuple(range(0, len(COLUMNS), 2))
Y_COLUMNS: tuple[int, ...] = tuple(range(1, len(COLUMNS), 2))

IMAGE_COLUMN = "Image"
IMAGE_ID_COLUMN = "ImageId"
LOOKUP_COLUMNS: tuple[str, ...] = ("RowId", "ImageId", "FeatureName", "Location")

#: Keypoints that swap names when a face is mirrored left-right.
FLIP_PAIRS: tuple[tuple[str, str], ...] = (
    ("left_eye_center", "right_eye_center"),
    ("left_eye_inner_corner", "right_eye_inner_corner"),
    ("left_eye_outer_corner", "right_eye_outer_corner"),
    ("left_eyebrow_inner_end", "right_eyebrow_inner_end"),
    ("left_eyebrow_outer_end", "right_eyebrow_outer_end"),
    ("mouth_left_corner", "mouth_right_corner"),
)


def _flip_permutation() -> tuple[int, ...]:
    """Column permutation that swaps every left/right pair (x with x, y with y)."""
    perm = list(range(len(COLUMNS)))
    for left, right in FLIP_PAIRS:
        for axis in ("x", "y"):
            i, j = COLUMN_INDEX[f"{left}_{axis}"], COLUMN_INDEX[f"{right}_{axis}"]
            perm[i], perm[j] = j, i
    return tuple(perm)


#: ``keypoints[:, FLIP_PERMUTATION]`` renames left as right and right as left.
FLIP_PERMUTATION: tuple[int, ...] = _flip_permutation()

#: The six specialists of Daniel Nouri's tutorial and of the reference slides.
SPECIALIST_GROUPS: dict[str, tuple[str, ...]] = {
    "eye_centers": ("left_eye_center", "right_eye_center"),
    "nose_tip": ("nose_tip",),
    "mouth_corners_top_lip": ("mouth_left_corner", "mouth_right_corner", "mouth_center_top_lip"),
    "bottom_lip": ("mouth_center_bottom_lip",),
    "eye_corners": (
        "left_eye_inner_corner",
        "left_eye_outer_corner",
        "right_eye_inner_corner",
        "right_eye_outer_corner",
    ),
    "eyebrows": (
        "left_eyebrow_inner_end",
        "left_eyebrow_outer_end",
        "right_eyebrow_inner_end",
        "right_eyebrow_outer_end",
    ),
}

#: Keypoints Kaggle labels on most faces (the rest are labelled on about 30%).
COMMON_KEYPOINTS: tuple[str, ...] = (
    "left_eye_center",
    "right_eye_center",
    "nose_tip",
    "mouth_center_bottom_lip",
)


def columns_of(keypoints: tuple[str, ...] | list[str]) -> list[int]:
    """Indices of the x and y columns of the given keypoints, in Kaggle's order."""
    unknown = [kp for kp in keypoints if kp not in KEYPOINTS]
    if unknown:
        raise KeyError(f"unknown keypoint(s) {unknown}; expected names from {list(KEYPOINTS)}")
    return sorted(COLUMN_INDEX[f"{kp}_{axis}"] for kp in keypoints for axis in ("x", "y"))
