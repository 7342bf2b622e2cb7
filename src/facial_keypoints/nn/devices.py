"""Which Keras backend computes, and on what device, for the record of a run."""

from __future__ import annotations

import keras


def backend() -> str:
    """The Keras backend in use: tensorflow, jax or torch."""
    return keras.backend.backend()


def describe() -> str:
    """The accelerators the backend sees, e.g. ``GPU: NVIDIA H200 x2``, or ``CPU``."""
    names: list[str] = []
    # Each backend names its devices its own way; Keras 3 has no portable call for it.
    if backend() == "jax":
        import jax  # noqa: PLC0415 - only under JAX

        names = [device.device_kind for device in jax.devices() if device.platform != "cpu"]
    elif backend() == "tensorflow":
        import tensorflow as tf  # noqa: PLC0415 - only under TensorFlow

        names = [
            tf.config.experimental.get_device_details(device).get("device_name", device.name)
            for device in tf.config.list_physical_devices("GPU")
        ]
    elif backend() == "torch":
        import torch  # noqa: PLC0415 - only under PyTorch

        if torch.cuda.is_available():
            names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    if not names:
        return "CPU"
    return f"GPU: {names[0]}" + (f" x{len(names)}" if len(names) > 1 else "")
