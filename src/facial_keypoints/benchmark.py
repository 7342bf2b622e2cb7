"""Benchmarks that print figures: ``python -m facial_keypoints.benchmark --data DIR``.

Load: the time pandas alone needs to read each raw CSV (from its zip when zipped) against the time
the kit needs to parse the frame into validated arrays, each the median of several runs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from facial_keypoints.datasets import KaggleCSVDataset
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
        rows.append({"file": frame.attrs["source"], "faces": len(faces["images"]),
                     "pandas_read_s": read_s, "parse_s": parse_s, "ratio": parse_s / read_s})
    return rows


def main(argv: list[str] | None = None) -> None:
    """Run the benchmarks and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/01_raw"),
                        help="folder holding Kaggle-format files (default: data/01_raw)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per measurement (median)")
    args = parser.parse_args(argv)
    print(f"{'file':<48} {'faces':>6} {'pandas read':>12} {'parse':>8} {'parse/read':>11}")
    for row in benchmark_load(args.data, args.repeats):
        print(f"{row['file']:<48} {row['faces']:>6} {row['pandas_read_s']:>11.3f}s "
              f"{row['parse_s']:>7.3f}s {row['ratio']:>10.2f}x")


if __name__ == "__main__":
    main()
