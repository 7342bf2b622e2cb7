"""Reading Kaggle's raw files from .csv or .zip, and storing artefacts atomically."""

import json
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from facial_keypoints.datasets import (
    AtomicCSVDataset,
    AtomicJSONDataset,
    KaggleCSVDataset,
    KerasModelDataset,
    NpzDataset,
)
from facial_keypoints.errors import InputDataError, RawFileError
from facial_keypoints.pipelines.modelling.architectures import build_model


@pytest.fixture
def raw_dir(tmp_path, test_frame):
    test_frame.to_csv(tmp_path / "test.csv", index=False)
    return tmp_path


def zip_csv(path, member, frame):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, frame.to_csv(index=False))


def test_reads_the_unzipped_csv(raw_dir, test_frame):
    frame = KaggleCSVDataset(filepath=str(raw_dir / "test.csv")).load()
    assert frame.equals(test_frame)
    assert frame.attrs["source"].endswith("test.csv")


def test_reads_the_csv_inside_kaggles_zip(tmp_path, test_frame):
    zip_csv(tmp_path / "test.zip", "test.csv", test_frame)
    frame = KaggleCSVDataset(filepath=str(tmp_path / "test.csv")).load()
    assert frame.equals(test_frame)
    assert frame.attrs["source"].endswith("test.zip (test.csv)")


def test_the_unzipped_csv_wins_over_the_zip(raw_dir, test_frame):
    zip_csv(raw_dir / "test.zip", "test.csv", test_frame.iloc[:3])
    assert len(KaggleCSVDataset(filepath=str(raw_dir / "test.csv")).load()) == len(test_frame)


def test_missing_file_says_how_to_get_it(tmp_path):
    dataset = KaggleCSVDataset(filepath=str(tmp_path / "training.csv"))
    assert not dataset.exists()
    with pytest.raises(RawFileError) as info:
        dataset.load()
    text = str(info.value)
    assert "training.csv not found" in text and "training.zip" in text
    assert "kaggle competitions download -c facial-keypoints-detection" in text
    assert "data/01_raw/" in text


def test_zip_holding_the_wrong_file_is_reported(tmp_path, test_frame):
    zip_csv(tmp_path / "training.zip", "test.csv", test_frame)
    with pytest.raises(InputDataError, match=r"training.zip holds \['test.csv'\], expected exactly one training.csv"):
        KaggleCSVDataset(filepath=str(tmp_path / "training.csv")).load()


def test_truncated_zip_is_reported(tmp_path, test_frame):
    zip_csv(tmp_path / "test.zip", "test.csv", test_frame)
    data = (tmp_path / "test.zip").read_bytes()
    (tmp_path / "test.zip").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputDataError, match="test.zip is not a readable zip archive"):
        KaggleCSVDataset(filepath=str(tmp_path / "test.csv")).load()


def test_empty_csv_is_reported(tmp_path):
    (tmp_path / "test.csv").write_text("")
    with pytest.raises(InputDataError, match="test.csv is empty"):
        KaggleCSVDataset(filepath=str(tmp_path / "test.csv")).load()


def test_demo_option_generates_missing_files(tmp_path):
    dataset = KaggleCSVDataset(
        filepath=str(tmp_path / "raw" / "training.csv"), demo={"n_train": 20, "n_test": 5, "seed": 0}
    )
    frame = dataset.load()
    assert len(frame) == 20
    assert (tmp_path / "raw" / "IdLookupTable.csv").is_file()


def test_npz_round_trip_and_atomic_write(tmp_path):
    path = tmp_path / "sub" / "faces.npz"
    dataset = NpzDataset(filepath=str(path))
    arrays = {"images": np.arange(12, dtype=np.uint8).reshape(3, 2, 2), "ids": np.array([4, 5, 6])}
    dataset.save(arrays)
    loaded = dataset.load()
    assert loaded.keys() == arrays.keys()
    for key, value in arrays.items():
        np.testing.assert_array_equal(loaded[key], value)
        assert loaded[key].dtype == value.dtype
    assert [p.name for p in path.parent.iterdir()] == ["faces.npz"]


def test_npz_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "faces.npz"
    dataset = NpzDataset(filepath=str(path))
    dataset.save({"a": np.ones(3)})

    def write_half_then_fail(file, **arrays):
        Path(file).write_bytes(b"PK half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", write_half_then_fail)
    with pytest.raises(Exception, match="disk full"):
        dataset.save({"a": np.zeros(3)})
    monkeypatch.undo()
    np.testing.assert_array_equal(dataset.load()["a"], np.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["faces.npz"]


def test_keras_model_dataset_round_trip(tmp_path):
    model = build_model("mlp", 30, np.arange(30.0), [2.0] * 30, {"hidden": 8})
    dataset = KerasModelDataset(filepath=str(tmp_path / "models" / "m.keras"))
    dataset.save(model)
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["m.keras"]
    x = np.zeros((2, 96, 96, 1), "float32")
    np.testing.assert_allclose(dataset.load().predict(x, verbose=0), model.predict(x, verbose=0))


def test_csv_and_json_round_trip(tmp_path):
    frame = pd.DataFrame({"RowId": [1, 2], "Location": [30.5, 61.25]})
    csv = AtomicCSVDataset(filepath=str(tmp_path / "out" / "submission.csv"))
    csv.save(frame)
    assert (tmp_path / "out" / "submission.csv").read_text() == "RowId,Location\n1,30.5\n2,61.25\n"
    pd.testing.assert_frame_equal(csv.load(), frame)
    metrics = AtomicJSONDataset(filepath=str(tmp_path / "metrics.json"), save_args={"indent": 2})
    metrics.save({"val_rmse": 1.5, "per_keypoint": {"nose_tip_x": 1.2}})
    assert metrics.load() == {"val_rmse": 1.5, "per_keypoint": {"nose_tip_x": 1.2}}
    assert json.loads((tmp_path / "metrics.json").read_text())["val_rmse"] == 1.5


KILLED_WRITER = """
import sys
import numpy as np, pandas as pd
from facial_keypoints.datasets import AtomicCSVDataset
dataset = AtomicCSVDataset(filepath=sys.argv[1])
print("writing", flush=True)
dataset.save(pd.DataFrame({"RowId": np.arange(20_000_000), "Location": np.full(20_000_000, 48.0)}))
"""


def test_a_csv_write_killed_by_sigkill_leaves_the_previous_file(tmp_path):
    path = tmp_path / "submission.csv"
    AtomicCSVDataset(filepath=str(path)).save(pd.DataFrame({"RowId": [1], "Location": [2.0]}))
    writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline() == "writing\n"
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".submission.csv.*")) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # well into writing the 20 million rows
    writer.send_signal(signal.SIGKILL)
    assert writer.wait(30) == -signal.SIGKILL
    pd.testing.assert_frame_equal(AtomicCSVDataset(filepath=str(path)).load(),
                                  pd.DataFrame({"RowId": [1], "Location": [2.0]}))
