"""The TensorFlow CycleGAN tutorial's U-Net generator (pix2pix `unet_generator`, instance norm).

`levels` stride-2 4×4 convs down (no bias; instance norm after all but the first; LeakyReLU
0.3), `levels - 1` stride-2 4×4 transposed convs up (instance norm; dropout 0.5 on the first
three while training; ReLU), each followed by the skip from the same size, and a last
stride-2 4×4 transposed conv with a bias and tanh. Widths double from `filters` up to
`max_filters`: the tutorial's are 64, 128, 256, then 512, over 8 levels.

Any size: the graph needs H and W to be multiples of 2**levels (256 for the tutorial's 8:
else a skip and its up-sampled partner differ by a pixel), so `infer` reflect-pads the
bottom and right up to that multiple and crops the result back (see GeneratorBase.infer).
Reflection rather than zeros, because instance norm and the 1×1 bottleneck see the whole
padded image: mirrored photo keeps their statistics close to the photo's own; bottom/right
rather than centred, so that a photo's pixel grid stays where the stride-2 convs sample it
when the photo itself is a multiple of 256, and as synth/image/io.py pads for the ResNet.
"""
from __future__ import annotations

import dataclasses

from synth import runtime
from synth.device import tf
from synth.errors import ConfigError
from synth.image.network import GeneratorBase, KerasWeights, Layout, conv, conv_transpose, fill_from_keras, \
    instance_norm, leaky_relu

DROPOUT_STAGES = 3  # the tutorial's first three up-sampling stages


@dataclasses.dataclass(frozen=True)
class UNetConfig:
    filters: int = 64        # after the first down-sampling conv; doubled per level ...
    max_filters: int = 512   # ... up to this
    levels: int = 8          # stride-2 convs down; the bottleneck is 1/2**levels of the image
    norm_epsilon: float = 1e-5  # the tutorial's own InstanceNormalization (tensorflow-addons': 1e-3)
    leaky_slope: float = 0.3    # Keras' LeakyReLU default, which the tutorial keeps
    dropout: float = 0.5        # training only

    def __post_init__(self):
        if self.filters < 1 or self.max_filters < self.filters or not 2 <= self.levels <= 12:
            raise ConfigError(f"U-Net needs filters >= 1, max_filters >= filters and levels from 2 to 12, got "
                              f"filters={self.filters}, max_filters={self.max_filters}, levels={self.levels}",
                              reason="bad_value")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}", reason="bad_value")

    def width(self, level: int) -> int:
        """Channels after down-sampling conv `level` (and after the up-sampling conv that mirrors it)."""
        return min(self.filters * 2 ** level, self.max_filters)


class UNetGenerator(GeneratorBase):
    architecture = "unet"
    config_class = UNetConfig
    CPU_ENGINE, CPU_PRECISION = runtime.CPU_DEFAULTS["UNetGenerator"]

    @property
    def multiple(self) -> int:
        return 2 ** self.config.levels

    @property
    def min_side(self) -> int:
        return self.multiple

    def weight_layout(self) -> Layout:
        """Every weight in the order the tutorial's Keras model holds them."""
        c, levels = self.config, self.config.levels
        norm = lambda name, n: [(name + "/gamma", (n,)), (name + "/beta", (n,))]
        layout = [("down_0/conv/kernel", (4, 4, 3, c.width(0)))]
        for i in range(1, levels):
            layout += [(f"down_{i}/conv/kernel", (4, 4, c.width(i - 1), c.width(i)))] + norm(f"down_{i}/norm", c.width(i))
        for j in range(levels - 1):
            mirror = levels - 2 - j  # the down level whose size this stage restores
            inputs = c.width(levels - 1) if j == 0 else 2 * c.width(mirror + 1)
            layout += [(f"up_{j}/conv/kernel", (4, 4, c.width(mirror), inputs))] + norm(f"up_{j}/norm", c.width(mirror))
        return layout + [("out/conv/kernel", (4, 4, 3, 2 * c.width(0))), ("out/conv/bias", (3,))]

    @classmethod
    def from_keras_weights(cls, weights: KerasWeights) -> "UNetGenerator | None":
        """The tutorial's U-Net from a Keras model's weights, or None if they are another network.

        Its layers give 6 × levels - 3 arrays; the widths are read from the kernels. The
        tutorial's instance norm names its weights scale/offset (epsilon 1e-5);
        tensorflow-addons' InstanceNormalization, which photo->Monet notebooks use in its
        place, names them gamma/beta (epsilon 1e-3 by default)."""
        if len(weights) < 9 or (len(weights) + 3) % 6 or weights[0][1].shape[:3] != (4, 4, 3):
            return None
        levels = (len(weights) + 3) // 6
        widths = [int(weights[0][1].shape[3])] + [int(weights[3 * i - 2][1].shape[3]) for i in range(1, levels)]
        filters, max_filters = widths[0], max(widths)
        tutorial_norm = "scale" in [name.rsplit("/", 1)[-1] for name, _ in weights]
        try:
            config = UNetConfig(filters=filters, max_filters=max_filters, levels=levels,
                                norm_epsilon=1e-5 if tutorial_norm else 1e-3)
        except ConfigError:
            return None
        if [config.width(i) for i in range(levels)] != widths:
            return None
        return fill_from_keras(cls(config), weights)

    @property
    def feature_channels(self) -> int:
        return 2 * self.config.width(0)

    def features(self, weights, x, training: bool = False, seed=None, litert: bool = False):
        c = self.config
        skips = []
        for i in range(c.levels):
            x = conv(x, weights, f"down_{i}/conv", 2, "SAME")
            if i:
                x = instance_norm(x, weights, f"down_{i}/norm", c.norm_epsilon)
            x = leaky_relu(x, c.leaky_slope)
            skips.append(x)
        for j in range(c.levels - 1):
            x = conv_transpose(x, weights, f"up_{j}/conv", 4, sub_pixel=litert)
            x = instance_norm(x, weights, f"up_{j}/norm", c.norm_epsilon)
            if training and j < DROPOUT_STAGES and c.dropout:
                stage_seed = tf.random.experimental.stateless_fold_in(seed, j)
                x = tf.nn.experimental.stateless_dropout(x, c.dropout, seed=stage_seed)
            x = tf.concat([tf.nn.relu(x), skips[c.levels - 2 - j]], axis=-1)
        return x

    def output(self, weights, x, litert: bool = False):
        return tf.tanh(conv_transpose(x, weights, "out/conv", 4, sub_pixel=litert))
