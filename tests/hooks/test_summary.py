"""The end-of-run summary's estimate: how well the submission should score, and on whose faces."""

from facial_keypoints.hooks.summary import estimate_line


def test_the_estimate_names_whose_faces_it_is_on():
    unseen = {"oof_rmse": 1.40, "estimate": {"rmse": 1.3612, "unseen_people": True}}
    seen = {"oof_rmse": 1.27, "estimate": {"rmse": 1.2661, "unseen_people": False}}
    assert estimate_line(unseen) == "Estimated RMSE of this submission on unseen people: 1.3612 px"
    assert estimate_line(seen) == (
        "Estimated RMSE of this submission on faces of people also in training: 1.2661 px"
    )


def test_a_report_from_before_the_estimate_gives_its_out_of_fold_figure():
    assert estimate_line({"oof_rmse": 1.2705}) == (
        "Out-of-fold RMSE of the final combination: 1.2705 px"
    )
