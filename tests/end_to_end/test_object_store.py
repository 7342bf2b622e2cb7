"""A whole demo run with its data on an S3-compatible store: moto's standalone server, started here,
reached as boto and s3fs reach any such store (AWS_ENDPOINT_URL), with the credentials of
conf/<env>/credentials.yml. The submission is read back from the bucket, and the project's data/
holds nothing."""

from __future__ import annotations

import io
import logging

import mlflow
import pandas as pd
import pytest

from facial_keypoints.domain.keypoints import COLUMNS
from tests.end_to_end.conftest import kedro_run, one_specialist

pytestmark = pytest.mark.slow

BUCKET = "kit-bucket"
QUICK = "cv.folds=2,full_model.epochs=1,specialists.epochs=1,training.verbose=0"


@pytest.fixture
def s3_endpoint(monkeypatch):
    """An S3-compatible server of its own for this test, as the URL a client reaches it at."""
    pytest.importorskip("s3fs")
    server_module = pytest.importorskip("moto.server")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)  # only the credentials file may reach the store
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    yield endpoint
    server.stop()


def test_a_whole_demo_run_on_an_s3_store_writes_only_to_the_bucket(
    project, own_mlflow_store, s3_endpoint
):
    import boto3  # noqa: PLC0415 - with s3fs, only where the test runs
    import s3fs  # noqa: PLC0415

    keys = {"key": "test-key", "secret": "test-secret"}
    boto3.client(
        "s3", aws_access_key_id=keys["key"], aws_secret_access_key=keys["secret"]
    ).create_bucket(Bucket=BUCKET)
    one_specialist(project, "demo")
    demo = project / "conf" / "demo"
    (demo / "globals.yml").write_text(
        f"data_root: s3://{BUCKET}/demo\nraw_root: s3://{BUCKET}/demo/01_raw\n"
    )
    (demo / "credentials.yml").write_text(
        f"data_root: {keys}\nraw_root: {keys}\n".replace("'", '"')
    )

    result = kedro_run(project, "--env", "demo", "--params", QUICK)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]

    bucket = s3fs.S3FileSystem(**keys)
    written = {path.removeprefix(f"{BUCKET}/demo/") for path in bucket.find(f"{BUCKET}/demo")}
    assert {"01_raw/training.csv", "07_model_output/submission.csv"} <= written
    assert any(path.startswith("06_models/fold_1/full_model.keras/") for path in written)
    submission = pd.read_csv(
        io.BytesIO(bucket.cat(f"{BUCKET}/demo/07_model_output/submission.csv"))
    )
    lookup = pd.read_csv(io.BytesIO(bucket.cat(f"{BUCKET}/demo/01_raw/IdLookupTable.csv")))
    assert list(submission.columns) == ["RowId", "Location"]
    assert len(submission) == len(lookup) and submission["Location"].notna().all()
    assert f"s3://{BUCKET}/demo/07_model_output/submission.csv" in result.stdout

    data = project / "data"
    assert not data.exists() or not any(path.is_file() for path in data.rglob("*"))

    [run] = mlflow.MlflowClient(own_mlflow_store).search_runs(
        [e.experiment_id for e in mlflow.MlflowClient(own_mlflow_store).search_experiments()]
    )
    assert run.info.status == "FINISHED"
    artifacts = {
        item.path for item in mlflow.MlflowClient(own_mlflow_store).list_artifacts(run.info.run_id)
    }
    assert "submission.csv" in artifacts  # logged from a local copy of the bucket's file
    assert run.data.tags["data.training_raw"].startswith("training.csv sha256:")

    # The served model ships copies of the bucket's files: it loads them from its MLflow store.
    [model] = mlflow.MlflowClient(own_mlflow_store).search_model_versions(
        f"run_id='{run.info.run_id}'"
    )
    test_faces = pd.read_csv(io.BytesIO(bucket.cat(f"{BUCKET}/demo/01_raw/test.csv")), nrows=2)
    answer = mlflow.pyfunc.load_model(f"models:/{model.name}/{model.version}").predict(
        test_faces[["Image"]]
    )
    assert list(answer.columns) == list(COLUMNS) and answer.notna().all().all()


def test_a_store_this_machine_cannot_reach_stops_the_run_in_one_line(project):
    try:
        import gcsfs  # noqa: F401, PLC0415
    except ImportError:
        pass
    else:
        pytest.skip("gcsfs is installed: gs:// is reachable here")
    (project / "conf" / "local" / "globals.yml").write_text("data_root: gs://kit-bucket/data\n")
    result = kedro_run(project, "--pipelines", "data_engineering")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    [line] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert "Global data_root = gs://kit-bucket/data" in line and "pip install gcsfs" in line
