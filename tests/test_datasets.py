"""Reading Kaggle's raw files from .csv or .zip, and storing arrays atomically."""

import zipfile
from pathlib import Path

import numpy as np
import pytest

from facial_keypoints.datasets import KaggleCSVDataset, KerasModelDataset, NpzDataset
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
