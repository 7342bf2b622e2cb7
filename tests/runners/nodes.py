"""The nodes of the runner tests, in a module of their own: each worker process imports it to run
them, and the test modules import Keras (through tests.conftest), which a worker would load too."""

from __future__ import annotations

import os
import random
import threading
import time

#: How long each of the two independent nodes takes: long enough to overlap on two workers.
NAP_S = 2.0


def double(x: int) -> int:
    time.sleep(NAP_S)  # published late: a downstream node that did not wait would find nothing
    return 2 * x


def square(x: int) -> int:
    time.sleep(NAP_S)
    return x * x


def add(a: int, b: int) -> dict[str, int]:
    return {"sum": a + b, "pid": os.getpid()}


def broken(x: int) -> int:
    raise ValueError(f"no faces in {x}")


def seeded_draws(seed: int, noisy: bool = True) -> list[float]:
    """Draws from Python's generator after seeding it, as Keras builds a model's layers, while
    another thread of the process (as a Dask worker's own does) draws from it too."""
    stop = threading.Event()

    def draw_elsewhere() -> None:
        while not stop.is_set():
            random.random()
            time.sleep(0.0001)

    other = threading.Thread(target=draw_elsewhere)
    if noisy:
        other.start()
    random.seed(seed)
    draws = []
    for _ in range(200):
        draws.append(random.random())
        time.sleep(0.0005)
    stop.set()
    if noisy:
        other.join()
    return draws
