"""The benchmark harness measures what it says on small generated data."""

from facial_keypoints.arrays.synthetic import write_demo_files
from facial_keypoints.nn.architectures import ARCHITECTURES
from facial_keypoints.pipelines.data_engineering.nodes import parse_training
from facial_keypoints.tools.benchmark import benchmark_cli, benchmark_load, benchmark_training
from tests.conftest import PROJECT_ROOT


def test_load_and_training_figures(tmp_path, training_frame, params):
    write_demo_files(tmp_path, n_train=30, n_test=10, seed=0, zipped=True)
    rows = benchmark_load(tmp_path, repeats=1)
    assert [row["faces"] for row in rows] == [30, 10]
    assert all(row["pandas_read_s"] > 0 and row["ratio"] > 0 for row in rows)
    assert rows[0]["file"].endswith("training.zip (training.csv)")
    faces = parse_training(training_frame)
    throughput = benchmark_training(faces["images"], faces["keypoints"], 1, params["architectures"])
    assert set(throughput) == set(ARCHITECTURES) and all(value > 0 for value in throughput.values())


def test_cli_figures_compare_each_command_with_kedro_version():
    results = benchmark_cli(PROJECT_ROOT, repeats=1)
    assert set(results) == {
        "kedro --version, outside the project",
        "kedro --version",
        "kedro registry list",
        "kedro catalog describe-datasets",
    }
    assert results["kedro --version, outside the project"]["ratio_to_kedro_alone"] == 1.0
    assert not any(row["tensorflow_lines"] for row in results.values())
