"""TensorFlow, imported once, quietly and only when a model needs it, and the device it runs on.

Every synth module takes `tf` from here (`from synth.device import tf`): the import happens
then, not when synth is imported, because TensorFlow takes 2-3 s to import and a page that
has not loaded a model yet should answer without waiting for it. TensorFlow prints a dozen
lines on import and on its first device query, before its logging can be configured (oneDNN
notices, "Could not find cuda drivers", a cuInit error on any CPU machine); they are noise to
a person running the CLI or the app, so stderr is closed for those two moments unless
SYNTH_DEBUG=1.

Which device the models will use is asked of the NVIDIA driver directly (`describe`), so
that the app can size itself and say so before TensorFlow is imported.
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import os
import sys

DEBUG = os.environ.get("SYNTH_DEBUG") == "1"
log = logging.getLogger(__name__)


@contextlib.contextmanager
def stderr_closed():
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


@functools.cache
def _tensorflow():
    """TensorFlow, imported now, with GPU memory that grows as needed (a Space shares the card)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0" if DEBUG else "1")  # warnings and errors
    with stderr_closed():
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
    tf.get_logger().setLevel(logging.DEBUG if DEBUG else logging.WARNING)
    for gpu in gpus:
        tf.config.experimental.set_memory_growth(gpu, True)
    if gpu_names() and not gpus:
        log.warning("the NVIDIA driver sees %s, but this TensorFlow runs on the CPU (a build without CUDA?)",
                    ", ".join(gpu_names()))
    return tf


def graph(function, input_signature):
    """`function` as a TensorFlow graph, traced once for its signature. Without AutoGraph:
    synth's graphs loop with TensorFlow's own ops (tf.while_loop, tf.scan) and over layers in
    Python, so AutoGraph would only parse their source again: 1.3 s of a voice's 2.6 s first
    speak on two cores (benchmarks/first_request.py)."""
    return _tensorflow().function(function, input_signature=input_signature, autograph=False)


def __getattr__(name: str):
    if name == "tf":
        return _tensorflow()
    raise AttributeError(f"module 'synth.device' has no attribute {name!r}")


@functools.cache
def gpu_names() -> tuple[str, ...]:
    """The NVIDIA GPUs the driver reports (CUDA's driver API, without TensorFlow); none on a
    machine without the driver."""
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return ()
    count, name = ctypes.c_int(0), ctypes.create_string_buffer(256)
    if cuda.cuInit(0) != 0 or cuda.cuDeviceGetCount(ctypes.byref(count)) != 0:
        return ()
    names = []
    for index in range(count.value):
        device = ctypes.c_int(0)
        if cuda.cuDeviceGet(ctypes.byref(device), index) == 0 and cuda.cuDeviceGetName(name, 256, device) == 0:
            names.append(name.value.decode(errors="replace"))
    return tuple(names)


def describe() -> str:
    """'CPU', or 'GPU: <name>' (and how many more) where there is one."""
    names = gpu_names()
    if not names:
        return "CPU"
    return f"GPU: {names[0]}" + (f" (+{len(names) - 1} more)" if len(names) > 1 else "")


def setup() -> str:
    """TensorFlow ready on its device (imported now if it was not); the device, described."""
    _tensorflow()
    return describe()
