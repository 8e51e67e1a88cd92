"""Which device TensorFlow runs on, in one line for the UI and logs."""
from __future__ import annotations

import functools

import tensorflow as tf


@functools.cache
def setup() -> str:
    """Let GPU memory grow as needed (a Space shares the card) and describe the device."""
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        tf.config.experimental.set_memory_growth(gpu, True)
    if not gpus:
        return "CPU"
    name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", gpus[0].name)
    return f"GPU: {name}" + (f" (+{len(gpus) - 1} more)" if len(gpus) > 1 else "")
