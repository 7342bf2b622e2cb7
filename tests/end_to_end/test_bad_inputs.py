"""Each kind of bad input, through `kedro run` end to end: one clear message, nothing half-written."""

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from facial_keypoints.arrays.synthetic import write_demo_files
from tests.end_to_end.conftest import kedro_run, make_project

pytestmark = pytest.mark.slow


def edit_csv(path: Path, change) -> None:
    frame = pd.read_csv(path)
    change(frame)
    frame.to_csv(path, index=False)


def set_pixel(value: str):
    def change(frame):
        pixels = frame.loc[2, "Image"].split()
        frame.loc[2, "Image"] = " ".join([value, *pixels[1:]])

    return change


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def wrong_zip(raw: Path) -> None:
    (raw / "training.csv").unlink()
    with zipfile.ZipFile(raw / "training.zip", "w") as archive:
        archive.write(raw / "test.csv", "test.csv")


def unknown_feature(frame):
    frame.loc[0, "FeatureName"] = "left_ear_x"


def unknown_image(frame):
    frame.loc[0, "ImageId"] = 999


def duplicate_id(frame):
    frame.loc[1, "ImageId"] = frame.loc[0, "ImageId"]


def outside(frame):
    frame.loc[2, "nose_tip_x"] = 97.5


def empty_image(frame):
    frame.loc[2, "Image"] = ""


def keep_one_labelled_face(path: Path) -> None:
    frame = pd.read_csv(path)
    complete = frame.drop(columns="Image").notna().all(axis=1)
    frame.loc[[complete.idxmax()]].to_csv(path, index=False)


def empty_column(frame):
    frame["nose_tip_y"] = float("nan")


def huge_id(frame):
    frame["ImageId"] = frame["ImageId"].astype(object)
    frame.loc[1, "ImageId"] = "99999999999999999999"


def extra_comma(path: Path, line: int) -> None:
    lines = path.read_text().split("\n")
    lines[line] += ","
    path.write_text("\n".join(lines))


TRAINING_OUTPUTS = {"training_faces.npz", "training_clean.npz", "folds.csv"}
TEST_OUTPUTS = {"test_faces.npz", "id_lookup.csv"}
LOOKUP_OUTPUTS = {"id_lookup.csv"}

# case: (corrupt the raw folder, what the last line must say, outputs that must not be written)
CASES = {
    "truncated training.csv": (
        lambda raw: truncate(raw / "training.csv"),
        "training.csv row",
        TRAINING_OUTPUTS,
    ),
    "pixel 256": (
        lambda raw: edit_csv(raw / "training.csv", set_pixel("256")),
        "row 3 (line 4): Image value 256 (value 1) is outside 0..255",
        TRAINING_OUTPUTS,
    ),
    "pixel -1": (
        lambda raw: edit_csv(raw / "test.csv", set_pixel("-1")),
        "test.csv row 3 (line 4): Image value -1 (value 1) is outside 0..255",
        TEST_OUTPUTS,
    ),
    "non-numeric pixel": (
        lambda raw: edit_csv(raw / "training.csv", set_pixel("x7")),
        "Image value 'x7' (value 1) is not an integer",
        TRAINING_OUTPUTS,
    ),
    "empty Image": (
        lambda raw: edit_csv(raw / "training.csv", empty_image),
        "row 3 (line 4): Image is empty",
        TRAINING_OUTPUTS,
    ),
    "missing column": (
        lambda raw: edit_csv(raw / "training.csv", lambda f: f.pop("nose_tip_y")),
        "missing column(s) ['nose_tip_y']",
        TRAINING_OUTPUTS,
    ),
    "keypoint outside [0, 96]": (
        lambda raw: edit_csv(raw / "training.csv", outside),
        "nose_tip_x = 97.5 is outside [0, 96]",
        TRAINING_OUTPUTS,
    ),
    "duplicate ImageId": (
        lambda raw: edit_csv(raw / "test.csv", duplicate_id),
        "row 2 (line 3): ImageId 1 repeats row 1 (line 2)",
        TEST_OUTPUTS,
    ),
    "unknown lookup feature": (
        lambda raw: edit_csv(raw / "IdLookupTable.csv", unknown_feature),
        "FeatureName 'left_ear_x' is not one of the 30",
        LOOKUP_OUTPUTS,
    ),
    "unknown lookup image": (
        lambda raw: edit_csv(raw / "IdLookupTable.csv", unknown_image),
        "ImageId 999 is not in test.csv",
        LOOKUP_OUTPUTS,
    ),
    "empty test.csv": (
        lambda raw: (raw / "test.csv").write_text(""),
        "test.csv is empty",
        TEST_OUTPUTS,
    ),
    "zip holding the wrong file": (
        wrong_zip,
        "training.zip holds ['test.csv'], expected exactly one training.csv",
        TRAINING_OUTPUTS,
    ),
    "one-row training.csv": (
        lambda raw: keep_one_labelled_face(raw / "training.csv"),
        "cv.folds = 1 needs at least 2 distinct training faces, but the 1 training face(s) form 1",
        {"folds.csv"},
    ),
    "keypoint column empty in every row": (
        lambda raw: edit_csv(raw / "training.csv", empty_column),
        "column(s) ['nose_tip_y'] have no value in any row",
        TRAINING_OUTPUTS,
    ),
    "a data row ending in an extra comma": (
        lambda raw: extra_comma(raw / "training.csv", 3),
        "training.csv cannot be read as CSV (Error tokenizing data. C error: Expected 31 fields in line 4, saw 32)",
        TRAINING_OUTPUTS,
    ),
    "ImageId beyond what numbers hold": (
        lambda raw: edit_csv(raw / "test.csv", huge_id),
        "row 2 (line 3): ImageId 99999999999999999999 is out of range",
        TEST_OUTPUTS,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_ends_in_one_clear_message(case, tmp_path, monkeypatch):
    project = make_project(tmp_path, monkeypatch)
    raw = project / "data" / "01_raw"
    write_demo_files(raw, n_train=30, n_test=8, seed=0)
    corrupt, expected, not_written = CASES[case]
    corrupt(raw)
    result = kedro_run(project, "--pipelines", "data_engineering")
    assert result.returncode == 1, result.stdout[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ") and expected in last, last
    assert len(last) < 1000  # values are quoted short, whatever the file holds
    assert "Traceback" not in result.stderr + result.stdout
    assert not list((project / "data").rglob("*.tmp*"))  # nothing half-written
    written = {p.name for p in (project / "data").rglob("*") if p.is_file()}
    assert not written & not_written


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            "full_model.architecture=foo",
            "Error: Parameter full_model.architecture = 'foo' is not allowed",
        ),
        (
            "augment.mirror=abc",
            "Error: Parameter augment.mirror = 'abc' is not allowed: use 'auto' or",
        ),
        ("cleaning.strategy=bogus", "Error: Parameter cleaning.strategy = 'bogus' is not allowed"),
        ("specialists.epochs=-1", "Error: Parameter specialists.epochs = -1 is not allowed"),
        ("full_model.epochs=-1", "Error: Parameter full_model.epochs = -1 is not allowed"),
        (
            "cv.validation_fraction=1.5",
            "Error: Parameter cv.validation_fraction = 1.5 is not",
        ),
        ("cv.folds=0", "Error: Parameter cv.folds = 0 is not"),
        (
            "_specialist.epochs=5",
            "Error: Parameter '_specialist' is not a parameter of this project",
        ),
        ("kaggle.submit=true", "Error: kaggle.submit is true, but no Kaggle credentials"),
    ],
)
def test_a_parameter_mistake_is_one_line_before_anything_is_written(
    tmp_path, monkeypatch, override, expected
):
    project = make_project(tmp_path, monkeypatch)
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no kaggle.json, token or login
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "home"))
    result = kedro_run(project, "--env", "demo", "--params", override)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(expected), last
    assert "Traceback" not in result.stderr + result.stdout
    assert not (project / "data").exists()  # not even the demo files
