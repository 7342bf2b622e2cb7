"""Command line for Kaggle's files: download the competition data, or upload a submission.

    python -m facial_keypoints.tools.kaggle download [--to data/01_raw]
    python -m facial_keypoints.tools.kaggle submit data/07_model_output/submission.csv -m "message"

Needs the ``kaggle`` package and your API credentials (see :mod:`facial_keypoints.domain.kaggle_client`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from facial_keypoints.domain.kaggle_client import KaggleUnavailable, download, submit


def main(argv: list[str] | None = None) -> None:
    """Command line: download the data or submit a CSV."""
    parser = argparse.ArgumentParser(
        prog="python -m facial_keypoints.tools.kaggle", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    get = commands.add_parser("download", help="download the competition's files")
    get.add_argument("--to", type=Path, default=Path("data/01_raw"))
    put = commands.add_parser("submit", help="upload a submission CSV")
    put.add_argument("csv", type=Path)
    put.add_argument("-m", "--message", default="facial-keypoints")
    args = parser.parse_args(argv)
    try:
        if args.command == "download":
            for path in download(args.to):
                print(path)  # noqa: T201
        else:
            submit(args.csv, args.message)
            print(f"submitted {args.csv}")  # noqa: T201
    except KaggleUnavailable as exc:
        parser.exit(1, f"error: {exc}\n")


if __name__ == "__main__":
    main()
