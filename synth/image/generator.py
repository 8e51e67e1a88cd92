"""CycleGAN ResNet generator (c7s1-F, d2F, d4F, R4F×n, u2F, uF, c7s1-3), fully convolutional.

Plain TensorFlow ops over a dict of weights, so any image size works and both weight
families fit: keras.io's (no conv biases but the last, instance norm with gamma/beta,
eps 1e-3) and the CycleGAN authors' PyTorch one (biases, no affine, eps 1e-5).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from synth.device import tf
from synth.errors import CheckpointMismatch, ConfigError

Layout = list[tuple[str, tuple[int, ...]]]


@dataclasses.dataclass(frozen=True)
class GeneratorConfig:
    filters: int = 64
    n_blocks: int = 9
    norm_epsilon: float = 1e-3
    norm_affine: bool = True   # instance norm with gamma/beta
    conv_bias: bool = False    # biases on every conv (the last one always has one)

    def __post_init__(self):
        if self.filters < 1 or self.n_blocks < 0:
            raise ConfigError(f"filters must be >= 1 and n_blocks >= 0, got {self.filters}, {self.n_blocks}")


class Generator:
    """Image (B, H, W, 3) in [-1, 1] -> restyled image, same shape. H and W: multiples of 4."""

    def __init__(self, config: GeneratorConfig = GeneratorConfig()):
        self.config = config
        self._w: dict[str, tf.Variable] | None = None
        self._run = tf.function(self._graph, input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])

    def weight_layout(self) -> Layout:
        """Every weight in the order the keras.io model numbers its layers."""
        c, f = self.config, self.config.filters

        def conv(name, kernel, out, bias=c.conv_bias):
            return [(name + "/kernel", kernel)] + ([(name + "/bias", (out,))] if bias else [])

        def norm(name, channels):
            return [(name + "/gamma", (channels,)), (name + "/beta", (channels,))] if c.norm_affine else []

        layout = conv("in/conv", (7, 7, 3, f), f) + norm("in/norm", f)
        for i, (cin, cout) in enumerate([(f, 2 * f), (2 * f, 4 * f)]):
            layout += conv(f"down_{i}/conv", (3, 3, cin, cout), cout) + norm(f"down_{i}/norm", cout)
        for b in range(c.n_blocks):
            for j in range(2):
                layout += conv(f"block_{b}/conv_{j}", (3, 3, 4 * f, 4 * f), 4 * f) + norm(f"block_{b}/norm_{j}", 4 * f)
        for i, (cin, cout) in enumerate([(4 * f, 2 * f), (2 * f, f)]):
            layout += conv(f"up_{i}/conv", (3, 3, cout, cin), cout) + norm(f"up_{i}/norm", cout)
        return layout + conv("out/conv", (7, 7, f, 3), 3, bias=True)

    def set_weights(self, arrays: dict[str, np.ndarray]) -> None:
        """Take every weight of `weight_layout`, shape-checked, or refuse the lot."""
        weights = {}
        for name, shape in self.weight_layout():
            if name not in arrays:
                raise CheckpointMismatch(f"weight '{name}' is missing (expected shape {shape})")
            value = np.asarray(arrays[name], np.float32)
            if value.shape != shape:
                raise CheckpointMismatch(f"weight '{name}': expected shape {shape}, found {value.shape}")
            weights[name] = value
        self._w = {name: tf.Variable(v, trainable=False, name=name.replace("/", "_")) for name, v in weights.items()}

    def get_weights(self) -> dict[str, np.ndarray]:
        return {name: v.numpy() for name, v in self._w.items()}

    def infer(self, images) -> np.ndarray:
        """float32 NHWC in [-1, 1] -> same shape; one compiled graph serves every size."""
        if self._w is None:
            raise RuntimeError("Generator has no weights: use from_pretrained or set_weights")
        images = np.asarray(images, np.float32)
        if images.ndim != 4 or images.shape[-1] != 3 or images.shape[1] % 4 or images.shape[2] % 4:
            raise ValueError(f"images must be (B, H, W, 3) with H, W multiples of 4, got {images.shape}")
        return self._run(tf.constant(images)).numpy()

    @classmethod
    def from_pretrained(cls, path_or_repo_id: str, revision: str | None = None):
        from synth.image.loaders import load_generator

        return load_generator(path_or_repo_id, revision=revision)

    def save_pretrained(self, directory) -> None:
        from synth.image.loaders import save_native

        save_native(self, directory)

    # -- graph ------------------------------------------------------------------------
    def _conv(self, x, name, stride=1, padding="VALID"):
        x = tf.nn.conv2d(x, self._w[name + "/kernel"], stride, padding)
        return x + self._w[name + "/bias"] if name + "/bias" in self._w else x

    def _norm(self, x, name):
        mean, variance = tf.nn.moments(x, axes=[1, 2], keepdims=True)
        x = (x - mean) * tf.math.rsqrt(variance + self.config.norm_epsilon)
        return x * self._w[name + "/gamma"] + self._w[name + "/beta"] if self.config.norm_affine else x

    def _graph(self, x):
        reflect = lambda t, p: tf.pad(t, [[0, 0], [p, p], [p, p], [0, 0]], "REFLECT")
        x = tf.nn.relu(self._norm(self._conv(reflect(x, 3), "in/conv"), "in/norm"))
        for i in range(2):
            x = tf.nn.relu(self._norm(self._conv(x, f"down_{i}/conv", 2, "SAME"), f"down_{i}/norm"))
        for b in range(self.config.n_blocks):
            p = f"block_{b}/"
            y = tf.nn.relu(self._norm(self._conv(reflect(x, 1), p + "conv_0"), p + "norm_0"))
            x = x + self._norm(self._conv(reflect(y, 1), p + "conv_1"), p + "norm_1")
        for i in range(2):
            kernel = self._w[f"up_{i}/conv/kernel"]
            shape = tf.shape(x)
            x = tf.nn.conv2d_transpose(x, kernel, [shape[0], 2 * shape[1], 2 * shape[2], kernel.shape[2]], 2, "SAME")
            if f"up_{i}/conv/bias" in self._w:
                x = x + self._w[f"up_{i}/conv/bias"]
            x = tf.nn.relu(self._norm(x, f"up_{i}/norm"))
        return tf.tanh(self._conv(reflect(x, 3), "out/conv"))
