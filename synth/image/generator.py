"""CycleGAN ResNet generator (c7s1-F, d2F, d4F, R4F×n, u2F, uF, c7s1-3), fully convolutional.

Plain TensorFlow ops over a dict of weights, so any image size works and both weight
families fit: keras.io's (no conv biases but the last, instance norm with gamma/beta,
eps 1e-3, TensorFlow's SAME padding on the stride-2 convs) and the CycleGAN authors'
PyTorch one (biases, no affine, eps 1e-5, one pixel of padding on each side of the stride-2
convs: `stride_padding="torch"`; see synth/image/convert.py).
"""
from __future__ import annotations

import dataclasses

from synth.device import tf
from synth.errors import ConfigError
from synth.image.network import GeneratorBase, KerasWeights, Layout, conv, conv_transpose, fill_from_keras, \
    instance_norm, pad

STRIDE_PADDINGS = ("same", "torch")


@dataclasses.dataclass(frozen=True)
class GeneratorConfig:
    filters: int = 64
    n_blocks: int = 9
    norm_epsilon: float = 1e-3
    norm_affine: bool = True   # instance norm with gamma/beta
    conv_bias: bool = False    # biases on every conv (the last one always has one)
    # where the stride-2 convs pad: "same" is TensorFlow's (the extra row and column at the
    # bottom/right); "torch" is PyTorch's padding=1 (and output_padding=1 when up-sampling):
    # one on each side, so every output pixel sits one input pixel earlier
    stride_padding: str = "same"

    def __post_init__(self):
        if self.filters < 1 or self.n_blocks < 0:
            raise ConfigError(f"filters must be >= 1 and n_blocks >= 0, got {self.filters}, {self.n_blocks}")
        if self.stride_padding not in STRIDE_PADDINGS:
            raise ConfigError(f"stride_padding {self.stride_padding!r}: expected one of {', '.join(STRIDE_PADDINGS)}",
                              reason="bad_value", value=self.stride_padding, choices=STRIDE_PADDINGS)


class Generator(GeneratorBase):
    """The ResNet family. H and W run at multiples of 4 (two stride-2 convs), at least 8 (the
    3-pixel reflection of the first conv, then a 1-pixel one at a quarter of the size)."""

    architecture = "resnet"
    config_class = GeneratorConfig
    multiple = 4
    min_side = 8

    def weight_layout(self) -> Layout:
        """Every weight in the order the keras.io model numbers its layers."""
        c, f = self.config, self.config.filters

        def conv_weights(name, kernel, out, bias=c.conv_bias):
            return [(name + "/kernel", kernel)] + ([(name + "/bias", (out,))] if bias else [])

        def norm(name, channels):
            return [(name + "/gamma", (channels,)), (name + "/beta", (channels,))] if c.norm_affine else []

        layout = conv_weights("in/conv", (7, 7, 3, f), f) + norm("in/norm", f)
        for i, (cin, cout) in enumerate([(f, 2 * f), (2 * f, 4 * f)]):
            layout += conv_weights(f"down_{i}/conv", (3, 3, cin, cout), cout) + norm(f"down_{i}/norm", cout)
        for b in range(c.n_blocks):
            for j in range(2):
                layout += (conv_weights(f"block_{b}/conv_{j}", (3, 3, 4 * f, 4 * f), 4 * f)
                           + norm(f"block_{b}/norm_{j}", 4 * f))
        for i, (cin, cout) in enumerate([(4 * f, 2 * f), (2 * f, f)]):
            layout += conv_weights(f"up_{i}/conv", (3, 3, cout, cin), cout) + norm(f"up_{i}/norm", cout)
        return layout + conv_weights("out/conv", (7, 7, f, 3), 3, bias=True)

    @classmethod
    def from_keras_weights(cls, weights: KerasWeights) -> "Generator | None":
        """The keras.io ResNet generator from a Keras model's weights, or None if they are another network.

        keras.io's layers give 17 + 6 × blocks arrays, the first a 7×7 kernel on 3 channels."""
        first = weights[0][1] if weights else None
        if first is None or first.ndim != 4 or first.shape[:3] != (7, 7, 3) or (len(weights) - 17) % 6:
            return None
        config = GeneratorConfig(filters=int(first.shape[3]), n_blocks=max(0, (len(weights) - 17) // 6))
        return fill_from_keras(cls(config), weights)

    @property
    def feature_channels(self) -> int:
        return self.config.filters

    def features(self, weights, x, training: bool = False, seed=None, litert: bool = False):
        c = self.config
        norm = lambda t, name: instance_norm(t, weights, name, c.norm_epsilon)
        x = tf.nn.relu(norm(conv(pad(x, 3, litert=litert), weights, "in/conv"), "in/norm"))
        for i in range(2):
            if c.stride_padding == "torch":
                x = conv(pad(x, 1, "CONSTANT"), weights, f"down_{i}/conv", 2)
            else:
                x = conv(x, weights, f"down_{i}/conv", 2, "SAME")
            x = tf.nn.relu(norm(x, f"down_{i}/norm"))
        for b in range(c.n_blocks):
            p = f"block_{b}/"
            y = tf.nn.relu(norm(conv(pad(x, 1, litert=litert), weights, p + "conv_0"), p + "norm_0"))
            x = x + norm(conv(pad(y, 1, litert=litert), weights, p + "conv_1"), p + "norm_1")
        for i in range(2):
            crop = 1 if c.stride_padding == "torch" else None
            x = conv_transpose(x, weights, f"up_{i}/conv", 3, crop=crop, sub_pixel=litert)
            x = tf.nn.relu(norm(x, f"up_{i}/norm"))
        return x

    def output(self, weights, x, litert: bool = False):
        return tf.tanh(conv(pad(x, 3, litert=litert), weights, "out/conv"))
