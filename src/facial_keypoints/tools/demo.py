"""Command line: write demo faces in Kaggle's exact file format (``python -m facial_keypoints.tools.demo``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from facial_keypoints.arrays.synthetic import write_demo_files


def main(argv: list[str] | None = None) -> None:
    """Command line: write the demo files and print their paths and sizes."""
    parser = argparse.ArgumentParser(
        prog="python -m facial_keypoints.tools.demo",
        description="Write generated demo faces in Kaggle's file format.",
    )
    parser.add_argument("--out", required=True, type=Path, help="folder to write into")
    parser.add_argument("--n-train", type=int, default=600, help="training faces")
    parser.add_argument("--n-test", type=int, default=150, help="test faces")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--zipped", action="store_true", help="training.zip, test.zip")
    args = parser.parse_args(argv)
    paths = write_demo_files(args.out, args.n_train, args.n_test, args.seed, args.zipped)
    for path in paths:
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
