"""Optional Kaggle upload/download: clear words about what is missing, never needed by the suite."""

import importlib.util

import pytest

from facial_keypoints import kaggle_api as kaggle


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    monkeypatch.delenv("KAGGLE_USERNAME", raising=False)
    monkeypatch.delenv("KAGGLE_KEY", raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path))
    return tmp_path


def test_missing_credentials_say_where_they_go(no_credentials):
    problem = kaggle.missing_credentials()
    assert (
        "KAGGLE_USERNAME and KAGGLE_KEY" in problem
        and str(no_credentials / "kaggle.json") in problem
    )
    with pytest.raises(kaggle.KaggleUnavailable, match="no Kaggle credentials"):
        kaggle.submit("submission.csv", "message")


def test_credentials_from_the_environment_or_kaggle_json(no_credentials, monkeypatch):
    (no_credentials / "kaggle.json").write_text('{"username": "u", "key": "k"}')
    assert kaggle.missing_credentials() is None
    (no_credentials / "kaggle.json").unlink()
    monkeypatch.setenv("KAGGLE_USERNAME", "u")
    monkeypatch.setenv("KAGGLE_KEY", "k")
    assert kaggle.missing_credentials() is None


@pytest.mark.skipif(importlib.util.find_spec("kaggle") is not None, reason="kaggle is installed")
def test_without_the_kaggle_package_it_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("KAGGLE_USERNAME", "u")
    monkeypatch.setenv("KAGGLE_KEY", "k")
    with pytest.raises(kaggle.KaggleUnavailable, match="pip install kaggle"):
        kaggle.download(tmp_path / "raw")
    assert not (tmp_path / "raw").exists()
