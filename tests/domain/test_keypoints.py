"""The vocabulary every pipeline shares."""

from facial_keypoints.domain.keypoints import (
    COLUMNS,
    FLIP_PAIRS,
    FLIP_PERMUTATION,
    KEYPOINTS,
    SPECIALIST_GROUPS,
    columns_of,
)


def test_columns_are_kaggles_thirty_in_order():
    assert len(COLUMNS) == 30
    assert COLUMNS[:4] == (
        "left_eye_center_x",
        "left_eye_center_y",
        "right_eye_center_x",
        "right_eye_center_y",
    )
    assert COLUMNS[-1] == "mouth_center_bottom_lip_y"


def test_flip_permutation_swaps_every_pair_and_is_an_involution():
    renamed = [COLUMNS[i] for i in FLIP_PERMUTATION]
    for left, right in FLIP_PAIRS:
        for axis in ("x", "y"):
            assert renamed[COLUMNS.index(f"{left}_{axis}")] == f"{right}_{axis}"
            assert renamed[COLUMNS.index(f"{right}_{axis}")] == f"{left}_{axis}"
    assert renamed[COLUMNS.index("nose_tip_x")] == "nose_tip_x"
    assert [FLIP_PERMUTATION[i] for i in FLIP_PERMUTATION] == list(range(30))


def test_every_left_keypoint_has_a_right_partner():
    sided = {kp for kp in KEYPOINTS if "left" in kp or "right" in kp}
    assert sided == {kp for pair in FLIP_PAIRS for kp in pair}


def test_specialist_groups_cover_each_keypoint_once():
    grouped = [kp for group in SPECIALIST_GROUPS.values() for kp in group]
    assert sorted(grouped) == sorted(KEYPOINTS)
    assert columns_of(SPECIALIST_GROUPS["eye_centers"]) == [0, 1, 2, 3]
