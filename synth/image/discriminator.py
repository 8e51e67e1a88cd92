"""The CycleGAN PatchGAN discriminator: a score per overlapping patch, not one per image.

The authors' NLayerDiscriminator with instance norm: 4×4 convs, each padded by one pixel;
`layers` of stride 2 (the first without norm), one of stride 1, then a stride-1 conv to one
channel; LeakyReLU 0.2; biases everywhere (their norm has no affine); widths
`filters` × 1, 2, 4, 8, 8, ... Three layers see 70×70 patches (the paper's); fewer suit small
images. Only `synth train` uses it: like the generators, a pure graph over a weights dict.
"""
from __future__ import annotations

import dataclasses

from synth.errors import ConfigError
from synth.image.network import Layout, conv, instance_norm, leaky_relu, pad


def receptive_field(layers: int) -> int:
    """Side of the patch one output scores: 16, 34, 70, 142 ... for 1, 2, 3, 4 layers."""
    side = 1 + 3 + 3  # the last two stride-1 4×4 convs
    for _ in range(layers):
        side = 2 * side + 2  # a stride-2 4×4 conv below: 2 × (side - 1) + 4
    return side


@dataclasses.dataclass(frozen=True)
class PatchDiscriminatorConfig:
    filters: int = 64
    layers: int = 3          # stride-2 convs: 3 is the paper's 70×70 PatchGAN
    norm_epsilon: float = 1e-5

    def __post_init__(self):
        if self.filters < 1 or not 1 <= self.layers <= 6:
            raise ConfigError(f"PatchGAN needs filters >= 1 and layers from 1 to 6, got {self.filters}, "
                              f"{self.layers}", reason="bad_value")

    def width(self, index: int) -> int:
        return self.filters * min(2 ** index, 8)


class PatchDiscriminator:
    def __init__(self, config: PatchDiscriminatorConfig = PatchDiscriminatorConfig()):
        self.config = config

    def weight_layout(self) -> Layout:
        c = self.config
        layout, channels = [], 3
        for i in range(c.layers + 1):  # the stride-2 convs, then the stride-1 one
            layout += [(f"conv_{i}/kernel", (4, 4, channels, c.width(i))), (f"conv_{i}/bias", (c.width(i),))]
            channels = c.width(i)
        return layout + [("out/kernel", (4, 4, channels, 1)), ("out/bias", (1,))]

    def forward(self, weights, x):
        """Images (B, H, W, 3) -> patch scores (B, h, w, 1), about H/2**layers - 2 on a side."""
        c = self.config
        for i in range(c.layers + 1):
            x = conv(pad(x, 1, "CONSTANT"), weights, f"conv_{i}", 2 if i < c.layers else 1)
            if i:
                x = instance_norm(x, weights, f"conv_{i}/norm", c.norm_epsilon)
            x = leaky_relu(x, 0.2)
        return conv(pad(x, 1, "CONSTANT"), weights, "out")
