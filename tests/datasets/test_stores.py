"""Every dataset of the project on a store fsspec reaches by URL (here fsspec's in-memory store, as
s3:// or gs:// would be): round trips, versions, existence, previews, local copies and errors."""

import uuid
import zipfile
from pathlib import Path

import fsspec
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from kedro.io import DatasetError
from kedro.io.core import Version

from facial_keypoints.datasets import (
    ArtefactError,
    AtomicCSVDataset,
    AtomicJSONDataset,
    AtomicTextDataset,
    AtomicYAMLDataset,
    KaggleCSVDataset,
    KerasModelDataset,
    NpzDataset,
    PlotDataset,
    RawFileError,
)
from facial_keypoints.datasets.stores import StoreError
from facial_keypoints.domain.errors import InputDataError, find_input_error
from facial_keypoints.domain.storage import check_store, is_url, local_folder
from facial_keypoints.nn.architectures import build_model


@pytest.fixture
def bucket():
    """A fresh folder of the in-memory store, as a URL; emptied afterwards."""
    url = f"memory:///bucket-{uuid.uuid4().hex[:8]}"
    yield url
    memory = fsspec.filesystem("memory")
    if memory.exists(url):
        memory.rm(url, recursive=True)


def memory_files(url: str) -> list[str]:
    return sorted(fsspec.filesystem("memory").find(url))


@pytest.mark.parametrize(
    ("dataset_class", "name", "data", "same"),
    [
        (
            NpzDataset,
            "a.npz",
            {"x": np.arange(6.0).reshape(2, 3)},
            lambda a, b: np.array_equal(a["x"], b["x"]),
        ),
        (AtomicCSVDataset, "a.csv", pd.DataFrame({"x": [1, 2]}), lambda a, b: a.equals(b)),
        (AtomicJSONDataset, "a.json", {"rmse": 1.5}, lambda a, b: a == b),
        (AtomicYAMLDataset, "a.yml", {"training": {"seed": 3}}, lambda a, b: a == b),
        (AtomicTextDataset, "a.txt", "RMSE 1.5 px\n", lambda a, b: a == b),
    ],
)
def test_artefacts_round_trip_on_a_remote_store(bucket, dataset_class, name, data, same):
    dataset = dataset_class(filepath=f"{bucket}/08_reporting/{name}")
    assert not dataset.exists()
    dataset.save(data)
    assert dataset.exists() and same(
        dataset_class(filepath=f"{bucket}/08_reporting/{name}").load(), data
    )
    assert dataset.location == f"{bucket}/08_reporting/{name}"
    assert memory_files(bucket) == [f"{bucket.removeprefix('memory://')}/08_reporting/{name}"]
    with dataset.local_file() as path:
        assert path.is_file() and path.name == name
    assert not path.exists()  # the local copy is gone afterwards


def test_versions_on_a_remote_store_load_the_latest(bucket):
    first = NpzDataset(
        filepath=f"{bucket}/m.npz", version=Version(None, "2026-01-01T00.00.00.000Z")
    )
    first.save({"x": np.zeros(2)})
    second = NpzDataset(
        filepath=f"{bucket}/m.npz", version=Version(None, "2026-01-02T00.00.00.000Z")
    )
    second.save({"x": np.ones(2)})
    latest = NpzDataset(filepath=f"{bucket}/m.npz", version=Version(None, None))
    assert latest.load()["x"].tolist() == [1.0, 1.0]
    assert latest.location == f"{bucket}/m.npz/2026-01-02T00.00.00.000Z/m.npz"
    older = NpzDataset(
        filepath=f"{bucket}/m.npz", version=Version("2026-01-01T00.00.00.000Z", None)
    )
    assert older.load()["x"].tolist() == [0.0, 0.0]


def test_a_keras_model_round_trips_through_a_remote_store(bucket):
    model = build_model("mlp", 30, np.arange(30.0), [2.0] * 30, {"hidden": 8})
    dataset = KerasModelDataset(
        filepath=f"{bucket}/06_models/full_model.keras", version=Version(None, None)
    )
    dataset.save(model)
    loaded = KerasModelDataset(
        filepath=f"{bucket}/06_models/full_model.keras", version=Version(None, None)
    ).load()
    assert [w.shape for w in loaded.weights] == [w.shape for w in model.weights]


def test_a_plot_is_written_to_a_remote_store_and_previewed(bucket):
    figure = plt.figure()
    dataset = PlotDataset(filepath=f"{bucket}/08_reporting/rmse.png")
    assert dataset.preview() is None  # nothing written yet
    dataset.save(figure)
    plt.close(figure)
    assert dataset.exists() and dataset.preview()


def test_a_missing_or_damaged_remote_artefact_names_its_url(bucket):
    with pytest.raises(ArtefactError, match=rf"{bucket}/a.npz does not exist yet"):
        NpzDataset(filepath=f"{bucket}/a.npz").load()
    with pytest.raises(ArtefactError, match=rf"{bucket}/m.keras has no saved version yet"):
        KerasModelDataset(filepath=f"{bucket}/m.keras", version=Version(None, None)).load()
    fsspec.filesystem("memory").pipe(f"{bucket}/a.json", b"{not json")
    with pytest.raises(ArtefactError, match=rf"{bucket}/a.json is damaged"):
        AtomicJSONDataset(filepath=f"{bucket}/a.json").load()


def test_a_remote_datasets_filepath_is_its_url(bucket):
    dataset = AtomicJSONDataset(filepath=f"{bucket}/a.json")
    assert dataset.filepath == dataset.location == f"{bucket}/a.json" and not dataset.is_local


def test_kaggles_files_are_read_from_a_remote_store_zipped_or_not(bucket, test_frame):
    memory = fsspec.filesystem("memory")
    memory.pipe(f"{bucket}/01_raw/test.csv", test_frame.to_csv(index=False).encode())
    assert KaggleCSVDataset(filepath=f"{bucket}/01_raw/test.csv").load().equals(test_frame)
    with (
        memory.open(f"{bucket}/01_raw/zipped/test.zip", "wb") as handle,
        zipfile.ZipFile(handle, "w") as archive,
    ):
        archive.writestr("test.csv", test_frame.to_csv(index=False))
    zipped = KaggleCSVDataset(filepath=f"{bucket}/01_raw/zipped/test.csv")
    assert zipped.load().equals(test_frame)
    assert zipped.location == f"{bucket}/01_raw/zipped/test.zip"
    with pytest.raises(
        RawFileError, match=rf"neither {bucket}/none/test.csv nor {bucket}/none/test.zip"
    ):
        KaggleCSVDataset(filepath=f"{bucket}/none/test.csv").load()


def test_credentials_and_fs_args_reach_the_file_system(tmp_path):
    dataset = AtomicJSONDataset(filepath=f"{tmp_path}/a.json", fs_args={"auto_mkdir": True})
    assert dataset._fs.auto_mkdir
    npz = NpzDataset(filepath="s3://bucket/a.npz", credentials={"key": "k", "secret": "s"})
    assert npz._fs.key == "k" and npz.location == "s3://bucket/a.npz"


def test_work_that_stays_local_gets_a_local_folder_for_a_url(tmp_path):
    assert not is_url(tmp_path) and local_folder(tmp_path) == tmp_path
    assert is_url("s3://bucket/06_models/checkpoints")
    folder = local_folder("s3://bucket/06_models/checkpoints")
    assert folder.is_absolute() and folder.parts[-3:] == ("bucket", "06_models", "checkpoints")
    assert not is_url(Path("data/06_models"))


def test_a_store_that_cannot_be_reached_is_one_line_naming_it(bucket, monkeypatch):
    dataset = NpzDataset(filepath=f"{bucket}/a.npz")

    def refused(*args, **kwargs):
        raise ConnectionError("Could not connect to the endpoint URL")

    monkeypatch.setattr(dataset._fs, "info", refused)
    with pytest.raises(StoreError, match=rf"Cannot reach {bucket}/a.npz \(Could not connect"):
        dataset.load()
    with pytest.raises(DatasetError) as caught:  # Kedro wraps what an existence check raises
        dataset.exists()
    assert isinstance(find_input_error(caught.value), StoreError)
    monkeypatch.setattr(dataset._fs, "put_file", refused)
    with pytest.raises(StoreError, match="credentials"):
        dataset.save({"x": np.zeros(1)})


def test_a_store_whose_package_is_missing_is_named_before_a_run(monkeypatch):
    def missing(protocol):
        raise ImportError("Please install gcsfs to access Google Storage")

    monkeypatch.setattr(fsspec, "get_filesystem_class", missing)
    with pytest.raises(
        InputDataError, match=r"Global data_root = gs://b/data: .*pip install gcsfs"
    ):
        check_store("data_root", "gs://b/data")
    check_store("data_root", "data")  # a folder needs nothing
