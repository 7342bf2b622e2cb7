"""Which Keras backend computes, on what device and in which precision."""

from __future__ import annotations

import functools
from pathlib import Path

import keras

#: CPU flags of bfloat16 arithmetic units (x86: AVX-512 BF16, AMX; Arm: BF16).
_BF16_FLAGS = {"avx512_bf16", "amx_bf16", "bf16"}


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


@functools.cache  # the hardware does not change during a run; each model asks again
def cpu_has_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU computes bfloat16 in hardware (Linux reports it in /proc/cpuinfo's flags)."""
    try:
        text = cpuinfo.read_text()
    except OSError:  # not Linux: assume not
        return False
    return any(
        _BF16_FLAGS & set(line.split(":", 1)[1].split())
        for line in text.splitlines()
        if line.startswith(("flags", "Features"))
    )


def dtype_policy(setting: str) -> str:
    """``training.precision`` as a Keras dtype policy: ``auto`` is mixed_bfloat16 when computing on a
    CPU with bfloat16 units (faster there), float32 otherwise."""
    if setting != "auto":
        return setting
    return "mixed_bfloat16" if describe() == "CPU" and cpu_has_bf16() else "float32"
