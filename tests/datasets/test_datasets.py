"""Reading Kaggle's raw files from .csv or .zip, and storing artefacts atomically."""

import inspect
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
import yaml
from kedro.io.core import Version
from kedro_datasets._typing import TablePreview

from facial_keypoints.datasets import (
    ArtefactError,
    AtomicCSVDataset,
    AtomicJSONDataset,
    AtomicYAMLDataset,
    KaggleCSVDataset,
    KerasModelDataset,
    NpzDataset,
    PlotDataset,
    RawFileError,
)
from facial_keypoints.domain.errors import InputDataError, find_input_error
from facial_keypoints.nn.architectures import build_model


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
    with pytest.raises(
        InputDataError,
        match=r"training.zip holds \['test.csv'\], expected exactly one training.csv",
    ):
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


def test_load_args_go_to_pandas(raw_dir):
    frame = KaggleCSVDataset(filepath=str(raw_dir / "test.csv"), load_args={"nrows": 3}).load()
    assert len(frame) == 3


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


def test_npz_save_args_compress_and_load_args_reach_numpy(tmp_path):
    arrays = {"zeros": np.zeros((200, 200), np.float32)}
    plain = NpzDataset(filepath=str(tmp_path / "plain.npz"))
    small = NpzDataset(
        filepath=str(tmp_path / "small.npz"),
        save_args={"compressed": True},
        load_args={"mmap_mode": "r"},
    )
    plain.save(arrays)
    small.save(arrays)
    assert (tmp_path / "small.npz").stat().st_size < (tmp_path / "plain.npz").stat().st_size / 10
    np.testing.assert_array_equal(small.load()["zeros"], arrays["zeros"])
    assert json.loads(small.preview()) == {"zeros": "float32 (200, 200)"}


@pytest.mark.parametrize(
    ("dataset_class", "data", "extension"),
    [
        (AtomicCSVDataset, pd.DataFrame({"RowId": [1]}), "csv"),
        (AtomicJSONDataset, {"a": 1}, "json"),
        (AtomicYAMLDataset, {"a": {"b": 0.5}}, "yml"),
        (NpzDataset, {"a": np.ones(2)}, "npz"),
    ],
)
def test_versioned_saves_keep_every_version_and_load_the_latest(
    tmp_path, dataset_class, data, extension
):
    path = tmp_path / f"out.{extension}"
    for version in ("2026-01-01T00.00.00.000Z", "2026-01-02T00.00.00.000Z"):
        dataset_class(filepath=str(path), version=Version(None, version)).save(data)
    latest = dataset_class(filepath=str(path), version=Version(None, None))
    assert sorted(p.name for p in path.iterdir()) == [
        "2026-01-01T00.00.00.000Z",
        "2026-01-02T00.00.00.000Z",
    ]
    assert latest.filepath == path / "2026-01-02T00.00.00.000Z" / f"out.{extension}"
    assert latest.exists()


def test_catalog_config_of_every_dataset_is_plain_yaml(tmp_path):
    datasets = [
        KaggleCSVDataset(filepath=str(tmp_path / "training.csv"), load_args={"nrows": 2}),
        AtomicCSVDataset(filepath=str(tmp_path / "a.csv"), save_args={"sep": ";"}),
        AtomicJSONDataset(filepath=str(tmp_path / "a.json"), save_args={"indent": 2}),
        NpzDataset(filepath=str(tmp_path / "a.npz"), version=Version(None, None)),
        KerasModelDataset(filepath=str(tmp_path / "a.keras"), load_args={"compile": False}),
    ]
    for dataset in datasets:
        config = dataset._init_config()
        assert "args" not in config and "kwargs" not in config, config
        assert yaml.safe_load(yaml.safe_dump(config)) == config  # no Python-only tags


def test_json_and_csv_previews_for_kedro_viz(tmp_path):
    table = AtomicCSVDataset(filepath=str(tmp_path / "s.csv"))
    table.save(pd.DataFrame({"RowId": range(10), "Location": 1.5}))
    assert table.preview(nrows=2)["data"] == [[0, 1.5], [1, 1.5]]
    document = AtomicJSONDataset(filepath=str(tmp_path / "m.json"))
    document.save({"val_rmse": 1.3})
    assert json.loads(document.preview()) == {"val_rmse": 1.3}
    best = AtomicYAMLDataset(filepath=str(tmp_path / "best_params.yml"))
    best.save({"full_model": {"epochs": 40}})
    assert best.load() == {"full_model": {"epochs": 40}}
    assert json.loads(best.preview()) == {"full_model": {"epochs": 40}}


def test_nothing_to_preview_before_a_run_writes_the_file(tmp_path):
    """kedro viz --include-previews on a new clone: no preview, and so no warning, per dataset."""
    missing = tmp_path / "missing"
    assert AtomicCSVDataset(filepath=str(missing / "s.csv")).preview() is None
    assert (
        AtomicJSONDataset(filepath=str(missing / "m.json"), version=Version(None, None)).preview()
        is None
    )
    assert NpzDataset(filepath=str(missing / "a.npz")).preview() is None
    assert AtomicYAMLDataset(filepath=str(missing / "best_params.yml")).preview() is None
    assert PlotDataset(filepath=str(missing / "p.png")).preview() is None
    assert KaggleCSVDataset(filepath=str(missing / "training.csv")).preview() is None
    # kedro viz reads the kind of preview from the annotation, which the wrapper keeps.
    assert inspect.signature(AtomicCSVDataset.preview).return_annotation in (
        "TablePreview",
        TablePreview,
    )


def test_a_raw_file_previews_its_first_rows_with_images_cut_short(tmp_path, test_frame):
    zip_csv(tmp_path / "test.zip", "test.csv", test_frame)
    shown = KaggleCSVDataset(filepath=str(tmp_path / "test.csv")).preview(nrows=2)
    assert shown["columns"] == ["ImageId", "Image"]
    assert [row[0] for row in shown["data"]] == test_frame["ImageId"].head(2).tolist()
    assert shown["data"][0][1] == test_frame["Image"][0][:24] + " ..."


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
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout.readline() == "writing\n"
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".submission.csv.*")) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # well into writing the 20 million rows
    writer.send_signal(signal.SIGKILL)
    assert writer.wait(30) == -signal.SIGKILL
    pd.testing.assert_frame_equal(
        AtomicCSVDataset(filepath=str(path)).load(), pd.DataFrame({"RowId": [1], "Location": [2.0]})
    )


def test_a_save_removes_temporaries_that_a_killed_save_left(tmp_path):
    path = tmp_path / "submission.csv"
    leftover = tmp_path / ".submission.csv.abc123.tmp.csv"
    leftover.write_text("RowId,Loc")  # a save killed half-way
    AtomicCSVDataset(filepath=str(path)).save(pd.DataFrame({"RowId": [1], "Location": [2.0]}))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["submission.csv"]


def test_a_folder_that_cannot_be_written_is_one_clear_error(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path))

    monkeypatch.setattr("tempfile.mkstemp", refuse)  # as on a read-only folder (tests run as root)
    with pytest.raises(Exception) as info:
        NpzDataset(filepath=str(tmp_path / "faces.npz")).save({"a": np.ones(2)})
    error = find_input_error(info.value)
    assert error is not None
    assert str(error).startswith(
        f"Cannot write {tmp_path / 'faces.npz'}: {tmp_path} is not writable"
    )


def test_a_missing_or_damaged_artefact_says_how_to_write_it_again(tmp_path):
    dataset = NpzDataset(filepath=str(tmp_path / "train_faces.npz"))
    with pytest.raises(ArtefactError, match="train_faces.npz does not exist yet. Write it with"):
        dataset.load()
    dataset.save({"a": np.ones(1000)})
    path = tmp_path / "train_faces.npz"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ArtefactError, match=r"train_faces.npz is damaged and cannot be read \("):
        dataset.load()


def test_a_damaged_json_or_csv_artefact_is_named(tmp_path):
    combination = AtomicJSONDataset(filepath=str(tmp_path / "combination.json"))
    combination.save({"flip_tta": True, "sources": {}})
    (tmp_path / "combination.json").write_text('{"flip_tta": tr')
    with pytest.raises(ArtefactError, match=r"combination.json is damaged and cannot be read \("):
        combination.load()
    with pytest.raises(ArtefactError, match="lookup.csv does not exist yet"):
        AtomicCSVDataset(filepath=str(tmp_path / "lookup.csv")).load()
