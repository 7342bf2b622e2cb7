"""Export the trained full model to TFLite (LiteRT) for mobile and real-time use, and check it.

    python -m facial_keypoints.tools.export [--env demo]

Reads fold 0's full model (``fold_0.full_model``) and the test faces through the Kedro catalog,
writes ``full_model.tflite`` beside the ``.keras`` file, checks that its predictions match Keras' on
every test face, and measures its single-face latency (p50/p99) with the TFLite interpreter. Needs TensorFlow (the
default backend here).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from facial_keypoints.nn.tflite import check_export, export_tflite


def main(argv: list[str] | None = None) -> None:
    """Export the catalog's full model and print the check."""
    from kedro.framework.session import KedroSession  # noqa: PLC0415
    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415

    parser = argparse.ArgumentParser(
        prog="python -m facial_keypoints.tools.export", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--env", default=None, help="Kedro environment of the trained run")
    args = parser.parse_args(argv)
    bootstrap_project(Path.cwd())
    catalog = KedroSession.create(project_path=Path.cwd(), env=args.env).load_context().catalog
    model = catalog.load("fold_0.full_model")
    dataset = catalog.get("fold_0.full_model")
    # beside the model, or in the current folder when the model is on an object store
    path = (
        dataset.filepath.with_suffix(".tflite") if dataset.is_local else Path("full_model.tflite")
    )
    export_tflite(model, path)
    report = check_export(model, path, catalog.load("test_faces")["images"])
    print(  # noqa: T201
        f"{path}: {path.stat().st_size / 2**20:.1f} MiB; on {report['faces']} test faces the "
        f"largest difference from Keras is {report['max_abs_difference_px']:.2e} px; single face "
        f"p50 {report['single_face_p50_ms']:.2f} ms, p99 {report['single_face_p99_ms']:.2f} ms"
    )


if __name__ == "__main__":
    main()
