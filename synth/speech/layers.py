"""Inference-time layers that more than one speech model uses, as plain TensorFlow ops."""
from __future__ import annotations

from synth.device import tf
from synth.errors import ConfigError

ACTIVATIONS = {
    "relu": tf.nn.relu,
    "tanh": tf.tanh,
    "identity": tf.identity,
    "linear": tf.identity,
    "swish": tf.nn.swish,
    "mish": lambda x: x * tf.tanh(tf.nn.softplus(x)),
    "gelu": lambda x: tf.nn.gelu(x, approximate=False),
    "gelu_new": lambda x: tf.nn.gelu(x, approximate=True),
}
BATCH_NORM_EPSILON = 1e-3  # Keras' default, which the checkpoints were trained with


def activation(name: str):
    if name not in ACTIVATIONS:
        raise ConfigError(f"activation '{name}' is not supported; expected one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def batch_norm(x, gamma, beta, mean, variance):
    """Keras BatchNormalization at inference, from its moving statistics."""
    scale = gamma * tf.math.rsqrt(variance + BATCH_NORM_EPSILON)
    return x * scale + (beta - mean * scale)


def layer_norm(x, gamma, beta, epsilon):
    """Keras LayerNormalization over the last axis."""
    mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
    return (x - mean) * tf.math.rsqrt(variance + epsilon) * gamma + beta


def conv1d(x, kernel, bias):
    """Keras Conv1D with padding 'same': (B, T, C) -> (B, T, filters)."""
    return tf.nn.conv1d(x, kernel, 1, "SAME") + bias


def dense(x, kernel, bias):
    return tf.einsum("...c,cu->...u", x, kernel) + bias
