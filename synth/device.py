"""TensorFlow, imported once and quietly, and which device it runs on.

Every synth module takes `tf` from here. TensorFlow prints a dozen lines on import and on
its first device query, before its logging can be configured (oneDNN notices, "Could not
find cuda drivers", a cuInit error on any CPU machine); they are noise to a person running
the CLI or the app, so stderr is closed for those two moments unless SYNTH_DEBUG=1.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys

DEBUG = os.environ.get("SYNTH_DEBUG") == "1"


@contextlib.contextmanager
def _stderr_closed():
    if DEBUG:
        yield
        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0" if DEBUG else "1")  # warnings and errors
with _stderr_closed():
    import tensorflow as tf  # noqa: E402

    GPUS = tf.config.list_physical_devices("GPU")
tf.get_logger().setLevel(logging.DEBUG if DEBUG else logging.WARNING)


@functools.cache
def setup() -> str:
    """Let GPU memory grow as needed (a Space shares the card) and describe the device."""
    for gpu in GPUS:
        tf.config.experimental.set_memory_growth(gpu, True)
    if not GPUS:
        return "CPU"
    name = tf.config.experimental.get_device_details(GPUS[0]).get("device_name", GPUS[0].name)
    return f"GPU: {name}" + (f" (+{len(GPUS) - 1} more)" if len(GPUS) > 1 else "")
