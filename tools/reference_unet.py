"""Make the U-Net generator reference fixture with the legacy stack (TF 2.15, Keras 2).

The network is the TensorFlow pix2pix tutorial's `unet_generator(3, norm_type="instancenorm")`
(tensorflow_examples/models/pix2pix/pix2pix.py), written out again here with Keras 2 layers
the way the tutorial builds it: each stage a Sequential, the tutorial's own instance norm
(weights `scale`/`offset`, epsilon 1e-5), LeakyReLU at Keras' default slope 0.3, one
Concatenate layer shared by every skip, a biased tanh transposed conv at the end. Only the
widths are parameters (the tutorial's are 64, 128, 256, then 512). Run it with the reference
venv that tools/reference_venv.sh builds, never with synth's own environment:

    VENV/bin/python tools/reference_unet.py OUTDIR [--filters 4] [--max-filters 8] [--seed 0]
    VENV/bin/python tools/reference_unet.py OUTDIR --norm addons --filters 2 --max-filters 4

Writes OUTDIR/savedmodel/ (model.save, Keras 2 SavedModel), OUTDIR/model.h5 (model.save to
.h5, the full model) and OUTDIR/expected.npz; see tests/fixtures/unet_tutorial_tiny/README.md.
`--norm addons` swaps the tutorial's instance norm for tensorflow-addons' (gamma/beta,
epsilon 1e-3), as photo->Monet notebooks built on the tutorial do, and writes only the .h5
and the outputs for a patterned 256² image (`pattern` below), at every 4th row and column.
"""
import argparse
import os

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

LEVELS = 8  # the tutorial's depth: 256 -> 1 at the bottleneck


class InstanceNormalization(layers.Layer):
    """The tutorial's instance norm: per image and channel, then scale and offset."""

    def __init__(self, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=input_shape[-1:], initializer="ones", trainable=True)
        self.offset = self.add_weight(name="offset", shape=input_shape[-1:], initializer="zeros", trainable=True)

    def call(self, x):
        mean, variance = tf.nn.moments(x, axes=[1, 2], keepdims=True)
        return self.scale * (x - mean) * tf.math.rsqrt(variance + self.epsilon) + self.offset

    def get_config(self):  # the tutorial has none; .h5 saving needs it (weights unaffected)
        return {**super().get_config(), "epsilon": self.epsilon}


def norm_layer(kind):
    if kind == "addons":
        import tensorflow_addons as tfa

        return tfa.layers.InstanceNormalization()
    return InstanceNormalization()


def down_stage(width, normalise, norm):
    stage = keras.Sequential()
    stage.add(layers.Conv2D(width, 4, strides=2, padding="same", use_bias=False))
    if normalise:
        stage.add(norm_layer(norm))
    stage.add(layers.LeakyReLU())
    return stage


def up_stage(width, dropout, norm):
    stage = keras.Sequential()
    stage.add(layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False))
    stage.add(norm_layer(norm))
    if dropout:
        stage.add(layers.Dropout(0.5))
    stage.add(layers.ReLU())
    return stage


def unet(side, widths, norm="tutorial"):
    """widths[i]: channels after down-sampling stage i; side None builds the shape-free twin."""
    downs = [down_stage(w, i > 0, norm) for i, w in enumerate(widths)]
    ups = [up_stage(w, i < 3, norm) for i, w in enumerate(reversed(widths[:-1]))]
    last = layers.Conv2DTranspose(3, 4, strides=2, padding="same", activation="tanh")
    join = layers.Concatenate()
    inputs = layers.Input(shape=[side, side, 3])
    x, skips = inputs, []
    for stage in downs:
        x = stage(x)
        skips.append(x)
    for stage, skip in zip(ups, reversed(skips[:-1])):
        x = join([stage(x), skip])
    return keras.Model(inputs, last(x))


def randomise(model, seed):
    """O(1) activations: kernels N(0, 1/sqrt(taps x inputs)), scales N(1, 0.3), offsets N(0, 0.3)."""
    rng = np.random.RandomState(seed)
    values = []
    for weight in model.weights:
        name, shape = weight.name, tuple(weight.shape)
        if "kernel" in name:
            fan_in = shape[0] * shape[1] * (shape[3] if "transpose" in name else shape[2])
            gain = 3.0 if shape[2] == 3 and "transpose" in name else 1.0  # the last: tanh not flat, not saturated
            values.append(rng.normal(0, gain / np.sqrt(fan_in), shape))
        elif "scale" in name or "gamma" in name:
            values.append(rng.normal(1, 0.3, shape))
        else:  # offsets and the last bias
            values.append(rng.normal(0, 0.3 if "offset" in name or "beta" in name else 0.1, shape))
    model.set_weights([v.astype(np.float32) for v in values])


def padded_run(model, x, multiple=2 ** LEVELS):
    """synth's any-size scheme: reflect-pad bottom/right to a multiple of 256, run, crop back."""
    height, width = x.shape[1:3]
    pad = [(0, 0), (0, -height % multiple), (0, -width % multiple), (0, 0)]
    return model(np.pad(x, pad, mode="reflect"), training=False).numpy()[:, :height, :width]


def pattern(side=256):
    """A 256² uint8 test image from integers alone, so that the test can make it again."""
    rows, cols, channels = np.meshgrid(np.arange(side), np.arange(side), np.arange(3), indexing="ij")
    return ((rows * 7 + cols * 13 + channels * 61 + rows * cols // 9) % 256).astype(np.uint8)[None]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir")
    parser.add_argument("--filters", type=int, default=4)
    parser.add_argument("--max-filters", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--norm", choices=("tutorial", "addons"), default="tutorial")
    args = parser.parse_args()
    tf.random.set_seed(args.seed)
    widths = [min(args.filters * 2 ** i, args.max_filters) for i in range(LEVELS)]
    model = unet(256, widths, args.norm)  # fixed input, as the Hub's photo->painting generators are
    randomise(model, args.seed)
    os.makedirs(args.outdir, exist_ok=True)
    scale = lambda p: p.astype(np.float32) / 127.5 - 1.0
    if args.norm == "addons":
        model.save(os.path.join(args.outdir, "model.h5"))
        y = model(scale(pattern()), training=False).numpy()
        np.savez_compressed(os.path.join(args.outdir, "expected.npz"), y_every_4th=y[:, ::4, ::4])
        print(f"widths {widths}, {model.count_params()} parameters; y std {y.std():.3f}")
        return
    model.save(os.path.join(args.outdir, "savedmodel"))
    model.save(os.path.join(args.outdir, "model.h5"))
    twin = unet(None, widths)
    twin.set_weights(model.get_weights())

    rng = np.random.RandomState(args.seed + 1)
    pixels = rng.randint(0, 256, (1, 256, 256, 3)).astype(np.uint8)
    pixels_ns = rng.randint(0, 256, (1, 136, 264, 3)).astype(np.uint8)
    y = model(scale(pixels), training=False).numpy()
    y_ns = padded_run(twin, scale(pixels_ns))
    assert np.abs(twin(scale(pixels), training=False).numpy() - y).max() == 0.0
    # outputs at every other row and column: a quarter of the bytes (the fixture stays under
    # 2 MB), and every output pixel still depends on every input pixel and every weight
    np.savez_compressed(os.path.join(args.outdir, "expected.npz"), pixels=pixels, y_every_2nd=y[:, ::2, ::2],
                        pixels_136x264=pixels_ns, y_136x264_every_2nd=y_ns[:, ::2, ::2])
    print(f"widths {widths}, {model.count_params()} parameters; y std {y.std():.3f}, {y_ns.std():.3f}, "
          f"|y| > 0.99: {(np.abs(y) > 0.99).mean():.3f}")


if __name__ == "__main__":
    main()
