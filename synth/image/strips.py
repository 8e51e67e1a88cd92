"""Big images in bounded memory: a generator run layer by layer over strips of rows.

The compiled whole graph holds every layer's input and output whole, for the whole batch: a
1024² photo through the full ResNet generator peaked at 1.6 to 2.2 GB of RSS (TensorFlow's
import and the weights, 0.72 GB, included). Here images run one at a time, and each
convolution over strips of its output rows, each strip from the input rows its kernel reaches
(TensorFlow's own conv2d and conv2d_transpose, so the numbers are the graph's up to rounding).
Instance norm needs whole-image statistics: a convolution's output is either kept whole, raw,
its moments gathered strip by strip as it is written, or, for the largest (the ResNet's 64
channels at full size, the U-Net's last up-sampling), made twice: once for the moments, then
strip by strip again for the layer that reads it. Norms and activations apply to each strip
as it is read. The most kept at once for a 1024² photo is 201 MB (ResNet: three quarter-size
activations) and the peak RSS 1.08 GB.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from synth import device
from synth.device import tf

# Calls with more pixels than this (batch × padded height × width) run here, smaller ones as
# the compiled whole graph: it is faster (strips: 15% more CPU at 512², 40% more time at 1024²
# than TensorFlow's whole graph). The whole graph's peak RSS (full ResNet, whole process) on
# TensorFlow fits 1.2 GB up to here: 1.02 GB at 512², 1.44 GB at 768², 1.6-2.2 GB at 1024²; on
# LiteRT (int8, export already made) it is 1.45 GB at 512². Its memory grows with the batch as
# with the side: four 512² photos in one call (the Styler's batch) weigh as much as one 1024².
THRESHOLD = 512 * 512
STRIP_BYTES = 8 << 20  # about the most memory one strip of one layer takes


@dataclasses.dataclass
class Rows:
    """One image's activation (1, height, width, channels), known by `strip`: rows start..stop-1
    as a new or read-only float32 array. `row_bytes` is about the memory making one row takes."""

    height: int
    width: int
    channels: int
    strip: Callable[[int, int], np.ndarray]
    row_bytes: int

    def strips(self):
        step = max(1, STRIP_BYTES // self.row_bytes)
        for start in range(0, self.height, step):
            yield start, min(start + step, self.height)


class Moments:
    """Per-channel mean and variance over strips, in float64: each strip's mean, then its sum of
    squared deviations from it, merged (Chan, Golub, LeVeque). Never E[x²] - E[x]², which
    cancels under a large mean. (numpy: tf.nn.moments took twice as long on strips.)"""

    def __init__(self, channels: int):
        self.count, self.mean, self.squares = 0, np.zeros(channels), np.zeros(channels)

    def add(self, strip: np.ndarray) -> None:
        values = strip.reshape(-1, strip.shape[-1]).astype(np.float64)
        count, mean = len(values), values.mean(0)
        values -= mean
        total = self.count + count
        delta = mean - self.mean
        self.squares += np.einsum("ij,ij->j", values, values) + delta ** 2 * self.count * count / total
        self.mean += delta * count / total
        self.count = total

    @property
    def variance(self) -> np.ndarray:
        return self.squares / self.count


def bounded(shape) -> bool:
    """Whether a call with images of `shape` (padded) runs here: more pixels than THRESHOLD, and
    on the CPU (on a GPU the activations live in the GPU's memory, not the process's)."""
    return shape[0] * shape[1] * shape[2] > THRESHOLD and not device.gpu_names()


def infer(generator, images: np.ndarray) -> np.ndarray:
    """What `generator.infer` returns for padded `images`, one image at a time."""
    family = {"resnet": resnet, "unet": unet}[generator.architecture]
    out = np.empty(images.shape, np.float32)
    for i in range(len(images)):
        out[i:i + 1] = store(family(generator, stored(images[i:i + 1])))
    return out


def relu(t: np.ndarray) -> np.ndarray:
    """In place: on the new array `norm` makes."""
    return np.maximum(t, 0, out=t)


def resnet(generator, x: Rows) -> Rows:
    """generator.Generator.forward, strip by strip. Each name is rebound as soon as its layer is
    made, so that no array outlives the layer that reads it."""
    c, weights = generator.config, generator.variables

    def block(x, p):  # its own scope: the two raw outputs go when it returns
        y = kept(conv(x, weights, p + "conv_0", pads=reflect(1)), weights, p + "norm_0", c.norm_epsilon, relu)
        y = kept(conv(y, weights, p + "conv_1", pads=reflect(1)), weights, p + "norm_1", c.norm_epsilon, None)
        return stored(store(add(x, y)))

    x = conv(x, weights, "in/conv", pads=reflect(3))
    x = norm(x, moments(x), weights, "in/norm", c.norm_epsilon, relu)  # full size, 64 channels: made twice
    for i in range(2):
        pads = ((1, 1), (1, 1)) if c.stride_padding == "torch" else (same(x.height, 3, 2), same(x.width, 3, 2))
        x = kept(conv(x, weights, f"down_{i}/conv", 2, pads, "constant"), weights, f"down_{i}/norm",
                 c.norm_epsilon, relu)
    for b in range(c.n_blocks):
        x = block(x, f"block_{b}/")
    crop = 1 if c.stride_padding == "torch" else 0  # TensorFlow's SAME crops (3 - 2) // 2 = 0
    x = kept(conv_transpose(x, weights, "up_0/conv", crop), weights, "up_0/norm", c.norm_epsilon, relu)
    x = conv_transpose(x, weights, "up_1/conv", crop)
    x = norm(x, moments(x), weights, "up_1/norm", c.norm_epsilon, relu)  # full size, 64 channels: made twice
    return pointwise(conv(x, weights, "out/conv", pads=reflect(3)), np.tanh)


def unet(generator, x: Rows) -> Rows:
    """unet.UNetGenerator.forward (inference), strip by strip. The skips are kept (raw) until
    their up-sampling stage, but for the first, at half size, which has no norm: it is made
    again from the photo wherever it is read (3 input channels: cheap)."""
    c, weights = generator.config, generator.variables
    leaky = lambda t: np.maximum(t, c.leaky_slope * t)  # noqa: E731  (network.leaky_relu)
    skips = []
    for i in range(c.levels):
        x = conv(x, weights, f"down_{i}/conv", 2, (same(x.height, 4, 2), same(x.width, 4, 2)), "constant")
        x = kept(x, weights, f"down_{i}/norm", c.norm_epsilon, leaky) if i else pointwise(x, leaky)
        skips.append(x)
    skips.pop()  # the bottleneck, x itself
    for j in range(c.levels - 1):
        x = conv_transpose(x, weights, f"up_{j}/conv", 1)  # SAME crops (4 - 2) // 2 = 1
        if j < c.levels - 2:
            x = kept(x, weights, f"up_{j}/norm", c.norm_epsilon, relu)
        else:  # the last, at half size: made twice rather than kept
            x = norm(x, moments(x), weights, f"up_{j}/norm", c.norm_epsilon, relu)
        x = concat(x, skips.pop())
    return pointwise(conv_transpose(x, weights, "out/conv", 1), np.tanh)


def stored(array: np.ndarray) -> Rows:
    _, height, width, channels = array.shape
    return Rows(height, width, channels, lambda start, stop: array[:, start:stop], width * channels * 4)


def store(x: Rows, moments: Moments | None = None) -> np.ndarray:
    """x made whole; `moments` gathers its moments as it is written."""
    array = np.empty((1, x.height, x.width, x.channels), np.float32)
    for start, stop in x.strips():
        array[:, start:stop] = strip = x.strip(start, stop)
        if moments is not None:
            moments.add(strip)
    return array


def kept(x: Rows, weights, name: str, epsilon: float, activation) -> Rows:
    """x made whole, raw, and read through its instance norm and `activation`."""
    gathered = Moments(x.channels)
    return norm(stored(store(x, gathered)), gathered, weights, name, epsilon, activation)


def moments(x: Rows) -> Moments:
    """x's moments, each strip made and dropped."""
    gathered = Moments(x.channels)
    for start, stop in x.strips():
        gathered.add(x.strip(start, stop))
    return gathered


def reflect(amount: int):
    """The pads of network.pad's REFLECT by `amount`."""
    return (amount, amount), (amount, amount)


def same(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's SAME padding (before, after) of one side."""
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv(x: Rows, weights, name: str, stride: int = 1, pads=((0, 0), (0, 0)), mode: str = "reflect") -> Rows:
    """network.conv over x padded by `pads` ((top, bottom), (left, right)) in np.pad's `mode`:
    each output strip from the input rows its kernel reaches, padded where they pass an edge."""
    kernel, bias = weights[name + "/kernel"], weights.get(name + "/bias")
    size = kernel.shape[0]
    (top, bottom), (left, right) = pads

    def strip(start, stop):
        first, last = start * stride - top, (stop - 1) * stride + size - top  # input rows, last excluded
        rows = x.strip(max(first, 0), min(last, x.height))
        rows = np.pad(rows, [(0, 0), (max(-first, 0), max(last - x.height, 0)), (left, right), (0, 0)], mode)
        y = tf.nn.conv2d(rows, kernel, stride, "VALID")
        return (y if bias is None else tf.nn.bias_add(y, bias)).numpy()

    width = (x.width + left + right - size) // stride + 1
    return Rows((x.height + top + bottom - size) // stride + 1, width, kernel.shape[3], strip,
                max(width * kernel.shape[3] * 4, stride * x.row_bytes))


def conv_transpose(x: Rows, weights, name: str, crop: int) -> Rows:
    """network.conv_transpose with an int crop (TensorFlow's SAME crops (kernel - 2) // 2): each
    output strip from the input rows that reach it, through the full (VALID) transposed conv."""
    kernel, bias = weights[name + "/kernel"], weights.get(name + "/bias")
    size, channels = kernel.shape[0], kernel.shape[2]

    def strip(start, stop):
        # full output row r sums input rows i with 2i <= r <= 2i + size - 1
        first = max(0, -(-(start + crop - size + 1) // 2))
        last = min(x.height, (stop + crop - 1) // 2 + 1)
        full = [1, 2 * (last - first) + size - 2, 2 * x.width + size - 2, channels]
        y = tf.nn.conv2d_transpose(x.strip(first, last), kernel, full, 2, "VALID")
        y = y[:, start + crop - 2 * first:stop + crop - 2 * first, crop:crop + 2 * x.width]
        return (y if bias is None else tf.nn.bias_add(y, bias)).numpy()

    return Rows(2 * x.height, 2 * x.width, channels, strip,
                max((2 * x.width + size) * channels * 4, x.row_bytes // 2 + 1))


def norm(x: Rows, moments: Moments, weights, name: str, epsilon: float, activation=None) -> Rows:
    """network.instance_norm with whole-image moments, then `activation`, on each strip read:
    (x - mean) · gamma / sqrt(variance + epsilon) + beta. Not x · scale + offset: where a channel
    is near constant (a U-Net's 1×1 bottleneck) that cancels, and the graph's x - mean is exact."""
    mean, scale = moments.mean, 1 / np.sqrt(moments.variance + epsilon)
    offset = 0.0
    if name + "/gamma" in weights:
        scale, offset = scale * weights[name + "/gamma"].numpy(), weights[name + "/beta"].numpy()
    mean, scale, offset = (np.asarray(v, np.float32) for v in (mean, scale, offset))

    def normed(t):
        t = t - mean
        t *= scale
        t += offset
        return t if activation is None else activation(t)

    return pointwise(x, normed)


def pointwise(x: Rows, function) -> Rows:
    """x with `function` on each strip read (a new array: the strip may be a stored array's)."""
    return Rows(x.height, x.width, x.channels, lambda start, stop: function(x.strip(start, stop)), x.row_bytes)


def add(x: Rows, y: Rows) -> Rows:
    return Rows(x.height, x.width, x.channels, lambda start, stop: x.strip(start, stop) + y.strip(start, stop),
                x.row_bytes + y.row_bytes)


def concat(x: Rows, y: Rows) -> Rows:
    """x's channels, then y's (the U-Net's skips)."""
    return Rows(x.height, x.width, x.channels + y.channels,
                lambda start, stop: np.concatenate([x.strip(start, stop), y.strip(start, stop)], -1),
                x.row_bytes + y.row_bytes)
