"""Benchmarks that print figures: ``python -m facial_keypoints.tools.benchmark --data DIR``.

Sections (each a median of several runs where it is cheap):

- cli: median wall time of ``kedro --version``, ``kedro registry list`` and ``kedro catalog
  describe-datasets`` in the project (fresh processes), as a ratio to ``kedro --version`` outside
  any project (Kedro alone);
- load: pandas' read time of each raw CSV (from its zip when zipped) against the kit's parse time;
- training: faces per second of one training step (batch 64) for each architecture;
- base profile: epochs and seconds the last base-profile run needed, and its validation RMSE;
- prediction (needs a trained run in the catalog): batch throughput and single-face latency
  (p50/p99) of the full model, in Keras and exported to TFLite, and the time to predict the whole
  test set with the final combination (full model + specialists + flip TTA), first call included;
- ``--serving URI [URI ...]``: p50/p95 per request of 1 and of 64 test faces to each registered
  model (e.g. ``models:/facial_keypoints/3``), in-process (``mlflow.pyfunc.load_model(...)
  .predict``) and over REST (``mlflow models serve --env-manager local``), with the share of the
  in-process time that the request's parsing takes;
- ``--full-run``: wall time and peak RSS of ``kedro run --pipelines submission`` (minutes).

The table is printed and written to ``data/08_reporting/benchmark.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from facial_keypoints.datasets import KaggleCSVDataset
from facial_keypoints.domain.atomic import atomic_write
from facial_keypoints.domain.params import ArchitecturesParams
from facial_keypoints.nn.tflite import latency_ms
from facial_keypoints.pipelines.data_engineering.nodes import parse_test, parse_training


def median_seconds(function: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time of ``repeats`` calls, and the last call's result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def benchmark_load(data: Path, repeats: int) -> list[dict[str, Any]]:
    """pandas read time vs the kit's parse time for training and test."""
    rows = []
    for name, parse in (("training", parse_training), ("test", parse_test)):
        dataset = KaggleCSVDataset(filepath=str(data / f"{name}.csv"))
        read_s, frame = median_seconds(dataset.load, repeats)
        parse_s, faces = median_seconds(lambda frame=frame, parse=parse: parse(frame), repeats)
        rows.append(
            {
                "file": frame.attrs["source"],
                "faces": len(faces["images"]),
                "pandas_read_s": read_s,
                "parse_s": parse_s,
                "ratio": parse_s / read_s,
            }
        )
    return rows


def benchmark_training(
    images: np.ndarray, keypoints: np.ndarray, repeats: int, architectures: ArchitecturesParams
) -> dict[str, float]:
    """Faces per second of one training step (batch 64) for each architecture, with its
    configured options."""
    from facial_keypoints.nn.architectures import ARCHITECTURES, build_model  # noqa: PLC0415
    from facial_keypoints.nn.losses import MaskedMSE  # noqa: PLC0415

    x, y = images[:64, ..., None].astype(np.float32), keypoints[:64]
    mean, std = np.nanmean(keypoints, axis=0), np.nanstd(keypoints, axis=0)
    throughput = {}
    for name in ARCHITECTURES:
        model = build_model(name, y.shape[1], mean, std, architectures.options(name))
        model.compile(optimizer="adam", loss=MaskedMSE(std))
        model.train_on_batch(x, y)
        seconds, _ = median_seconds(lambda model=model: model.train_on_batch(x, y), repeats)
        throughput[name] = len(x) / seconds
    return throughput


def single_face_latency(
    predict: Callable[[np.ndarray], Any], pixels: np.ndarray, warmup: int = 100, calls: int = 1000
) -> dict[str, float]:
    """p50/p99 milliseconds of ``predict`` on one face (N=1 batches), after ``warmup`` calls."""
    return latency_ms(call_seconds(lambda i: predict(pixels[i % len(pixels)][None]), warmup, calls))


def call_seconds(call: Callable[[int], Any], warmup: int, calls: int) -> list[float]:
    """The wall time of each of ``calls`` calls ``call(i)``, after ``warmup`` untimed ones."""
    for i in range(warmup):
        call(i)
    seconds = []
    for i in range(calls):
        start = time.perf_counter()
        call(i)
        seconds.append(time.perf_counter() - start)
    return seconds


def benchmark_prediction(catalog: Any, repeats: int) -> dict[str, Any]:
    """Throughput, single-face latency (Keras and TFLite) and whole-test-set time of the trained
    models in the catalog."""
    import keras  # noqa: PLC0415

    from facial_keypoints.nn.inference import predict_pixels  # noqa: PLC0415
    from facial_keypoints.pipelines.catalog_names import MODEL_INPUTS  # noqa: PLC0415
    from facial_keypoints.pipelines.predict.nodes import (  # noqa: PLC0415
        average_folds,
        combine_folds,
        predict_test_views,
    )

    models = {keyword: catalog.load(f"fold_0.{name}") for keyword, name in MODEL_INPUTS.items()}
    combination, flip_convention = catalog.load("combination"), catalog.load("flip_convention")
    settings = catalog.load("params:combination")  # typed: Kedro validates the catalog's params
    specialists = catalog.load("params:specialists")
    test = catalog.load("test_faces")

    def whole_test_set() -> Any:  # the predict pipeline's own nodes, for one fold
        views = predict_test_views(test, flip_convention, settings, specialists, **models)
        return average_folds(combine_folds(test, {**combination, "folds": 1}, fold_0=views))

    start = time.perf_counter()
    whole_test_set()  # the first call compiles each model's prediction function
    cold_s = time.perf_counter() - start
    warm_s, _ = median_seconds(whole_test_set, max(1, repeats // 2))
    pixels = test["images"][..., None].astype(np.float32)
    full_model = models["full_model"]
    batch_s, _ = median_seconds(
        lambda: predict_pixels(full_model, pixels, settings.prediction_batch_size), repeats
    )
    results: dict[str, Any] = {
        "test_faces": len(pixels),
        "batch_faces_per_s": len(pixels) / batch_s,
        "single_face_keras": single_face_latency(full_model.predict_on_batch, pixels),
        "final_combination_test_set_s": {"first_call": cold_s, "median": warm_s},
        "flip_tta": combination["flip_tta"],
    }
    if keras.backend.backend() == "tensorflow":  # the TFLite export needs TensorFlow
        from facial_keypoints.nn.tflite import export_tflite, tflite_predict  # noqa: PLC0415

        with tempfile.TemporaryDirectory() as folder:
            path = export_tflite(full_model, Path(folder) / "full_model.tflite")
            _, seconds = tflite_predict(path, np.concatenate([test["images"]] * 2)[:1000])
        results["single_face_tflite"] = latency_ms(seconds[100:])  # after 100 warm-up faces
    return results


CLI_COMMANDS = (("--version",), ("registry", "list"), ("catalog", "describe-datasets"))


def benchmark_cli(project: Path, repeats: int) -> dict[str, Any]:
    """Median wall time of quick ``kedro`` commands in the project (each a fresh process), relative
    to ``kedro --version`` run outside any project (Kedro alone), and whether any of them printed
    TensorFlow's start-up lines."""
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"}
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as elsewhere:
        runs = [("kedro --version, outside the project", elsewhere, CLI_COMMANDS[0])]
        runs += [(f"kedro {' '.join(command)}", project, command) for command in CLI_COMMANDS]
        for name, folder, command in runs:
            outputs: list[str] = []

            def call(
                folder: str | Path = folder,
                command: tuple[str, ...] = command,
                outputs: list[str] = outputs,
            ) -> None:
                done = subprocess.run(
                    [sys.executable, "-m", "kedro", *command],
                    cwd=folder,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                outputs.append(done.stdout + done.stderr)

            seconds, _ = median_seconds(call, repeats)
            printed = "".join(outputs).lower()
            results[name] = {
                "median_s": seconds,
                "tensorflow_lines": "tensorflow" in printed or "onednn" in printed,
            }
    alone = results["kedro --version, outside the project"]["median_s"]
    for row in results.values():
        row["ratio_to_kedro_alone"] = row["median_s"] / alone
    return results


SERVING_BATCHES = (1, 64)


def request_latency(call: Callable[[], Any], requests: int, warmup: int = 3) -> dict[str, float]:
    """p50/p95 milliseconds of ``call`` after ``warmup`` calls (each batch size compiles once)."""
    p50, p95 = np.percentile(call_seconds(lambda _: call(), warmup, requests), [50, 95])
    return {"p50_ms": 1000 * float(p50), "p95_ms": 1000 * float(p95)}


def benchmark_serving(uri: str, images: list[str], requests: int) -> dict[str, Any]:
    """Latency of the registered model ``uri`` per request of 1 and 64 faces, in-process and over
    REST, and how much of the in-process time parsing the request takes."""
    import mlflow  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    from facial_keypoints.pipelines.predict.nodes import read_request  # noqa: PLC0415

    model = mlflow.pyfunc.load_model(uri)
    serving = model.unwrap_python_model()._loaded["params:serving"]
    frames = {faces: pd.DataFrame({"Image": (images * faces)[:faces]}) for faces in SERVING_BATCHES}
    results: dict[str, Any] = {"uri": uri}
    for faces, frame in frames.items():
        results[f"in_process_{faces}"] = request_latency(lambda f=frame: model.predict(f), requests)
        results[f"parse_{faces}"] = request_latency(
            lambda f=frame: read_request(f, serving), requests
        )
    with served_model(uri) as url:
        for faces, frame in frames.items():
            body = json.dumps({"dataframe_split": frame.to_dict(orient="split", index=False)})
            results[f"rest_{faces}"] = request_latency(lambda b=body: _post(url, b), requests)
            results[f"rest_{faces}"]["request_kib"] = len(body) / 1024
    return results


@contextlib.contextmanager
def served_model(uri: str, start_s: float = 300) -> Iterator[str]:
    """``mlflow models serve --env-manager local`` on ``uri`` in its own process group, for a
    ``with`` block: its URL; stopped by its process group at the end."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"  # its uvicorn
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "models", "serve", "-m", uri]
            + ["--env-manager", "local", "--host", "127.0.0.1", "--port", str(port)],
            env={**os.environ, "PATH": path},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + start_s
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/ping", timeout=2):
                        break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        said = log.read().decode(errors="replace")[-2000:]
                        raise RuntimeError(f"mlflow models serve -m {uri} did not start: {said}")
                    time.sleep(0.5)
            yield url
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _post(url: str, body: str) -> bytes:
    request = urllib.request.Request(
        f"{url}/invocations", data=body.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=300) as response:
        return response.read()


def benchmark_full_run(project: Path) -> dict[str, float]:
    """Wall time and peak RSS of ``kedro run --pipelines submission`` in a child process."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--pipelines", "submission"], cwd=project, check=True
    )  # its progress shows as it runs
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"wall_s": time.perf_counter() - start, "peak_rss_gib": peak_kib / 2**20}


def _catalog(project: Path, env: str | None) -> Any:
    from kedro.framework.session import KedroSession  # noqa: PLC0415
    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415

    bootstrap_project(project)
    return KedroSession.create(project_path=project, env=env).load_context().catalog


def _benchmark_project(args: argparse.Namespace, project: Path, results: dict[str, Any]) -> None:
    """Every section but serving: printed, and added to ``results``."""
    if args.full_run:  # first, so that the sections below describe the models it trains
        results["full_run"] = benchmark_full_run(project)
        print(
            f"kedro run --pipelines submission: {results['full_run']['wall_s']:.0f} s, "  # noqa: T201
            f"peak RSS {results['full_run']['peak_rss_gib']:.2f} GiB\n"
        )
    results["cli"] = benchmark_cli(project, args.repeats)
    print(f"{'command':<40} {'median':>8} {'vs Kedro alone':>15} {'TensorFlow lines':>17}")  # noqa: T201
    for command, row in results["cli"].items():
        print(
            f"{command:<40} {row['median_s']:>7.2f}s {row['ratio_to_kedro_alone']:>14.2f}x "  # noqa: T201
            f"{'yes' if row['tensorflow_lines'] else 'no':>17}"
        )
    print()  # noqa: T201
    results["load"] = benchmark_load(args.data, args.repeats)
    print(f"{'file':<52} {'faces':>6} {'pandas read':>12} {'parse':>8} {'parse/read':>11}")  # noqa: T201
    for row in results["load"]:
        print(
            f"{row['file']:<52} {row['faces']:>6} {row['pandas_read_s']:>11.3f}s "  # noqa: T201
            f"{row['parse_s']:>7.3f}s {row['ratio']:>10.2f}x"
        )
    catalog = _catalog(project, args.env)
    training = parse_training(KaggleCSVDataset(filepath=str(args.data / "training.csv")).load())
    results["training_faces_per_s"] = benchmark_training(
        training["images"],
        training["keypoints"],
        args.repeats,
        catalog.load("params:architectures"),
    )
    print(
        "\ntraining throughput (faces/s, batch 64): "
        + ", ".join(  # noqa: T201
            f"{name} {value:.0f}" for name, value in results["training_faces_per_s"].items()
        )
    )
    if catalog.exists("fold_0.full_model_training_summary"):
        summary = catalog.load("fold_0.full_model_training_summary")
        results["base_profile_full_model"] = {
            key: summary[key] for key in ("epochs", "seconds", "best_val_rmse", "training_samples")
        }
        print(
            f"\nlast trained full model (fold 0): {summary['epochs']} epochs, {summary['seconds']:.0f} s, "  # noqa: T201
            f"best validation RMSE {summary['best_val_rmse']:.4f} px"
        )
    if catalog.exists("fold_0.full_model") and catalog.exists("combination"):
        prediction = benchmark_prediction(catalog, args.repeats)
        results["prediction"] = prediction
        print(
            f"\nprediction on {prediction['test_faces']} test faces: "  # noqa: T201
            f"{prediction['batch_faces_per_s']:.0f} faces/s in batches (full model)"
        )
        for runtime in ("keras", "tflite"):
            if f"single_face_{runtime}" in prediction:
                latency = prediction[f"single_face_{runtime}"]
                print(
                    f"single face, full model, {runtime}: p50 {latency['p50_ms']:.2f} ms, "  # noqa: T201
                    f"p99 {latency['p99_ms']:.2f} ms"
                )
        whole = prediction["final_combination_test_set_s"]
        print(
            f"final combination of one fold (flip TTA {prediction['flip_tta']}), whole test set: "  # noqa: T201
            f"{whole['first_call']:.2f} s on the first call, {whole['median']:.2f} s after"
        )


def main(argv: list[str] | None = None) -> None:
    """Run the benchmarks, print a table and write benchmark.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=Path("data/01_raw"),
        help="folder holding Kaggle-format files (default: data/01_raw)",
    )
    parser.add_argument("--repeats", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument(
        "--env", default=None, help="Kedro environment of the trained run (e.g. demo)"
    )
    parser.add_argument(
        "--full-run",
        action="store_true",
        help="also time `kedro run --pipelines submission` (takes minutes)",
    )
    parser.add_argument(
        "--serving",
        nargs="+",
        default=[],
        metavar="URI",
        help="registered models to time per request (e.g. models:/facial_keypoints/3)",
    )
    parser.add_argument(
        "--serving-only", action="store_true", help="with --serving: skip the other sections"
    )
    parser.add_argument("--out", type=Path, default=Path("data/08_reporting/benchmark.json"))
    args = parser.parse_args(argv)
    project = Path.cwd()
    results: dict[str, Any] = {}
    if not args.serving_only:
        _benchmark_project(args, project, results)
    if args.serving:
        test = KaggleCSVDataset(filepath=str(args.data / "test.csv")).load()
        images = test["Image"].tolist()
        results["serving"] = [
            benchmark_serving(uri, images, args.repeats * 4) for uri in args.serving
        ]
        print(f"\n{'served model, per request':<36} {'faces':>5} {'p50 ms':>8} {'p95 ms':>8}")  # noqa: T201
        for row in results["serving"]:
            for where in ("in_process", "rest", "parse"):
                for faces in SERVING_BATCHES:
                    latency = row[f"{where}_{faces}"]
                    print(
                        f"{row['uri'] + ' ' + where:<36} {faces:>5} "  # noqa: T201
                        f"{latency['p50_ms']:>8.1f} {latency['p95_ms']:>8.1f}"
                    )
    atomic_write(args.out, lambda tmp: tmp.write_text(json.dumps(results, indent=2)))
    print(f"\nwritten to {args.out}")  # noqa: T201


if __name__ == "__main__":
    main()
