"""Optional Kaggle upload/download: clear words about what is missing, never needed by the suite."""

import importlib.util

import pytest

from facial_keypoints.domain import kaggle_client as kaggle


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


def test_missing_credentials_say_where_they_go(no_credentials):
    problem = kaggle.missing_credentials()
    assert (
        "KAGGLE_USERNAME and KAGGLE_KEY" in problem
        and str(no_credentials / "kaggle.json") in problem
    )
    with pytest.raises(kaggle.KaggleUnavailable, match="no Kaggle credentials"):
        kaggle.submit("submission.csv", "message")


def test_every_way_kaggle_2_authenticates_counts(no_credentials, monkeypatch):
    monkeypatch.setenv("KAGGLE_API_TOKEN", "KGAT_0123")
    assert kaggle.missing_credentials() is None
    monkeypatch.delenv("KAGGLE_API_TOKEN")
    token = no_credentials / "home" / ".kaggle" / "access_token"
    token.parent.mkdir(parents=True)
    token.write_text("KGAT_0123")
    assert kaggle.missing_credentials() is None
    token.unlink()
    (token.parent / "credentials.json").write_text("{}")  # `kaggle auth login`
    assert kaggle.missing_credentials() is None


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
