"""The model a demo run registered, loaded in-process and served over REST by MLflow's own server:
the same keypoints as ``predict``, and a 400 with one clear message for each bad request."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from facial_keypoints.domain.keypoints import COLUMNS
from facial_keypoints.tools.benchmark import served_model
from tests.end_to_end.conftest import FOLDS

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("trained_demo")]

NAME = "facial_keypoints"
SERVER_START_S = 180


@pytest.fixture(scope="module")
def version(trained_demo: Path) -> str:
    """The version of ``facial_keypoints`` that the trained demo project's run registered."""
    client = mlflow.MlflowClient()
    versions = [
        str(found.version)
        for found in client.search_model_versions(f"name = '{NAME}'")
        if client.get_run(found.run_id).data.tags.get("project_path") == str(trained_demo)
    ]
    assert len(versions) == 1, versions
    return versions[0]


@pytest.fixture(scope="module")
def test_faces(trained_demo: Path) -> pd.DataFrame:
    return pd.read_csv(trained_demo / "data" / "demo" / "01_raw" / "test.csv")


@pytest.fixture(scope="module")
def predicted(trained_demo: Path) -> pd.DataFrame:
    """What the run's predict pipeline wrote for the test faces, clipped as the submission is."""
    frame = pd.read_csv(trained_demo / "data" / "demo" / "07_model_output" / "test_predictions.csv")
    return frame[list(COLUMNS)].clip(0, 96)


def test_the_run_registered_one_model_with_its_signature_artefacts_and_pins(version):
    client = mlflow.MlflowClient()
    registered = client.get_model_version(NAME, version)
    assert float(registered.tags["estimate.oof_rmse"]) > 0
    assert registered.tags["estimate.basis"].startswith("training ")
    folder = Path(mlflow.artifacts.download_artifacts(f"models:/{NAME}/{version}"))
    info = mlflow.models.Model.load(folder)
    assert [spec.name for spec in info.signature.inputs.inputs] == ["Image"]
    assert [spec.name for spec in info.signature.outputs.inputs] == list(COLUMNS)
    shipped = sorted(path.name for path in (folder / "artifacts").rglob("*") if path.is_file())
    # Every fold's seven models, once each (the versions the run wrote, not a folder of versions).
    assert sum(name.endswith(".keras") for name in shipped) == FOLDS * 7
    assert {"combination.json", "flip_convention.json", "params_serving.pkl"} <= set(shipped)
    assert (folder / "code" / "facial_keypoints" / "serving" / "model.py").is_file()
    pins = (folder / "requirements.txt").read_text().split()
    assert all("==" in pin for pin in pins)
    assert {"keras", "mlflow", "kedro-mlflow", "pandas"} <= {pin.split("==")[0] for pin in pins}


def test_loaded_in_process_it_answers_as_predict(version, test_faces, predicted):
    model = mlflow.pyfunc.load_model(f"models:/{NAME}/{version}")
    answer = model.predict(test_faces[["Image"]])
    assert list(answer.columns) == list(COLUMNS)
    np.testing.assert_allclose(answer.to_numpy(), predicted.to_numpy(), atol=1e-3)


@pytest.fixture(scope="module")
def server(version: str) -> Iterator[str]:
    """``mlflow models serve`` on the registered version, in its own process group."""
    with served_model(f"models:/{NAME}/{version}", start_s=SERVER_START_S) as url:
        yield url


def post(url: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{url}/invocations", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def faces(*images: object, column: str = "Image") -> bytes:
    return json.dumps(
        {"dataframe_split": {"columns": [column], "data": [[image] for image in images]}}
    ).encode()


def test_the_server_answers_as_predict(server, test_faces, predicted):
    status, body = post(server, faces(*test_faces["Image"][:20]))
    assert status == 200
    answer = pd.DataFrame(body["predictions"])
    assert list(answer.columns) == list(COLUMNS)
    np.testing.assert_allclose(answer.to_numpy(), predicted.to_numpy()[:20], atol=1e-3)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("wrong pixel count", "The request's face 2: Image has 3 values, expected 9216"),
        ("outside 0-255", "The request's face 1: Image value 300 (value 1) is outside 0..255"),
        ("not a number", "The request's face 1: Image value 'abc' (value 1) is not an integer"),
        ("empty batch", "The request holds no faces"),
        ("too many faces", "The request holds 257 faces, more than this model's serving.max_faces"),
        ("no Image column", "Model is missing inputs ['Image']"),
        ("not JSON", "Ensure that input is a valid JSON formatted string"),
    ],
)
def test_a_bad_request_is_a_400_with_one_clear_message(server, test_faces, case, message):
    face = test_faces["Image"][0]
    body = {
        "wrong pixel count": faces(face, "1 2 3"),
        "outside 0-255": faces("300" + face[face.index(" ") :]),
        "not a number": faces("abc " + face),
        "empty batch": faces(),
        "too many faces": faces(*[face] * 257),
        "no Image column": faces(face, column="Pixels"),
        "not JSON": b"{oops",
    }[case]
    status, answer = post(server, body)
    assert status == 400
    assert message in answer["message"]
    assert "Traceback" not in answer["message"] and "stack_trace" not in answer


def test_promote_moves_best_to_the_version_asked_or_the_best_comparable_one(trained_demo, version):
    def promote(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "facial_keypoints.tools.promote", "--env", "demo", *args],
            cwd=trained_demo,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    client = mlflow.MlflowClient()
    assert f"@best is version {version} " in promote("--version", version)
    assert str(client.get_model_version_by_alias(NAME, "best").version) == version
    promote()
    best = client.get_model_version_by_alias(NAME, "best")
    comparable = [
        float(found.tags["estimate.oof_rmse"])
        for found in client.search_model_versions(f"name = '{NAME}'")
        if found.tags.get("estimate.basis") == best.tags["estimate.basis"]
    ]
    assert float(best.tags["estimate.oof_rmse"]) == min(comparable)
