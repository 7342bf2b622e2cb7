"""TFLite (LiteRT) export of a trained model, its face-by-face interpreter, and latency figures.

Needs TensorFlow (the default backend here); nothing else in the kit does.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from facial_keypoints.domain.atomic import atomic_write


def export_tflite(model: Any, path: Path) -> Path:
    """Write ``model`` as a TFLite flatbuffer at ``path`` (atomically)."""
    atomic_write(
        path, lambda tmp: model.export(str(tmp), format="litert", verbose=False), suffix=".tflite"
    )
    return path


def tflite_predict(
    path: Path, images: np.ndarray, threads: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Predict face by face with the TFLite interpreter: keypoints (N, 30) and per-face seconds."""
    import tensorflow as tf  # noqa: PLC0415

    with warnings.catch_warnings():  # tf.lite.Interpreter's move to ai_edge_litert
        warnings.simplefilter("ignore", UserWarning)
        interpreter = tf.lite.Interpreter(model_path=str(path), num_threads=threads)
    source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(source["index"], [1, *images.shape[1:], 1])
    interpreter.allocate_tensors()
    predictions, seconds = [], []
    for image in images[..., None].astype(np.float32):
        start = time.perf_counter()
        interpreter.set_tensor(source["index"], image[None])
        interpreter.invoke()
        predictions.append(interpreter.get_tensor(target["index"])[0].copy())
        seconds.append(time.perf_counter() - start)
    return np.array(predictions), np.array(seconds)


def latency_ms(seconds: Any) -> dict[str, float]:
    """p50 and p99 of per-call ``seconds``, in milliseconds."""
    p50, p99 = np.percentile(seconds, [50, 99])
    return {"p50_ms": 1000 * float(p50), "p99_ms": 1000 * float(p99)}


def check_export(model: Any, path: Path, images: np.ndarray) -> dict[str, float]:
    """Largest difference from Keras' predictions (px) and single-face latency of the export."""
    reference = model.predict(images[..., None].astype(np.float32), batch_size=256, verbose=0)
    predictions, seconds = tflite_predict(path, images)
    return {
        "faces": len(images),
        "max_abs_difference_px": float(np.abs(predictions - reference).max()),
        **{f"single_face_{key}": value for key, value in latency_ms(seconds).items()},
    }
