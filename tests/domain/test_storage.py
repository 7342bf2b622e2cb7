"""Writes on a full disk, the masking of credentials, and which model versions pruning keeps."""

from __future__ import annotations

import errno
import shutil
from collections import namedtuple

import pytest

from facial_keypoints.domain import atomic
from facial_keypoints.domain.errors import mask_credentials
from facial_keypoints.domain.versions import prune

Usage = namedtuple("Usage", "total used free")


def test_a_write_that_cannot_fit_is_refused_before_it_starts(tmp_path, monkeypatch):
    path = tmp_path / "epoch-0002.weights.h5"
    path.write_text("the last good checkpoint")
    monkeypatch.setattr(shutil, "disk_usage", lambda folder: Usage(100, 90, 10 * 2**20))
    written = []
    with pytest.raises(atomic.DiskFullError) as error:
        atomic.atomic_write(path, written.append, needs=30 * 2**20)
    assert str(error.value).startswith(
        f"No space left on {tmp_path}: writing {path.name} needs about 30 MB, free 10 MB."
    )
    assert written == [] and path.read_text() == "the last good checkpoint"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_write_the_disk_fills_up_under_is_one_clear_error(tmp_path):
    path = tmp_path / "folds.csv"
    path.write_text("row,fold,group\n")

    def fill_up(tmp):
        tmp.write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(atomic.DiskFullError, match="writing folds.csv did not fit"):
        atomic.atomic_write(path, fill_up)
    assert path.read_text() == "row,fold,group\n"
    assert [p.name for p in tmp_path.iterdir()] == ["folds.csv"]


def test_credentials_in_a_uri_are_masked():
    assert mask_credentials("http://bob:s3cret@host:5000/?token=abc&x=1 failed") == (
        "http://bob:***@host:5000/?token=***&x=1 failed"
    )
    assert mask_credentials("sqlite:///mlflow.db") == "sqlite:///mlflow.db"


def saved(root, name, versions):
    for version in versions:
        (root / name / version).mkdir(parents=True)
        (root / name / version / name).write_bytes(b"x" * 1000)
    return root / name


def test_pruning_keeps_the_latest_complete_runs_the_marked_ones_and_each_latest(tmp_path):
    runs = [f"2026-12-0{day}T10.00.00.000Z" for day in range(1, 7)]
    combination = saved(tmp_path, "combination.json", runs[:5])  # run 6 failed before it
    model = saved(tmp_path, "full_model.keras", runs)
    dry = prune([combination, model], runs[:5], keep_versions=2, marked={runs[0]}, dry_run=True)
    assert len(dry.removed) == 4 and all(path.exists() for path in dry.removed)
    result = prune([combination, model], runs[:5], keep_versions=2, marked={runs[0]})
    assert sorted(p.name for p in model.iterdir()) == [runs[0], runs[3], runs[4], runs[5]]
    assert sorted(p.name for p in combination.iterdir()) == [runs[0], runs[3], runs[4]]
    assert result.freed_bytes == 4000
