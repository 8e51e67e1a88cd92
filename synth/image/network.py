"""What every generator family shares: weights by name, a pure graph over them, any image size.

A family (generator.py: ResNet, unet.py: U-Net) says which weights it has (`weight_layout`)
and how an image flows through them (`features`, then `output`, the last layer, which writes
the pixels: pure functions of a weights dict, so that inference and `synth train` run the
very same graph); this base class holds the weights, checks them, pads images to the sizes
the graph takes and crops the result back.
"""
from __future__ import annotations

from typing import Callable, ClassVar

import numpy as np

from synth import runtime
from synth.device import graph, tf
from synth.errors import CheckpointMismatch, ImageError
from synth.image import strips

Layout = list[tuple[str, tuple[int, ...]]]
# (name, array) in a Keras model's own weight order, names as "conv2d_3/kernel"
KerasWeights = list[tuple[str, np.ndarray]]


def conv(x, weights, name, stride=1, padding="VALID"):
    """A 2-D convolution with the kernel `name/kernel` and, if there is one, `name/bias`."""
    x = tf.nn.conv2d(x, weights[name + "/kernel"], stride, padding)
    return tf.nn.bias_add(x, weights[name + "/bias"]) if name + "/bias" in weights else x


def conv_transpose(x, weights, name, kernel_size, crop=None, sub_pixel=False):
    """A stride-2 transposed convolution doubling H and W, with tf.nn.conv2d_transpose's kernel
    `name/kernel` (k, k, out, in). crop=None is TensorFlow's SAME; an int keeps the full
    output's rows and columns from `crop` on (PyTorch's `padding`).

    conv2d_transpose takes its output shape as a tensor, from tf.shape where the sides are open,
    and LiteRT's XNNPACK takes no op whose shape is computed at run time: exported so, the op
    fell to LiteRT's own kernel, whose int8 path took 1.1 s a layer at 256² (XNNPACK: 6 ms).
    `sub_pixel` (LiteRT's graph) makes the same sums with shapes that all follow from the
    input's: each output phase (even or odd row, even or odd column) is a stride-1 convolution
    with the kernel taps that reach it, and depth_to_space interleaves the four. TensorFlow
    keeps conv2d_transpose, which reads the kernel as stored: the phases' kernels, cut from it
    at each call, made the U-Net 3-4× slower there."""
    kernel = weights[name + "/kernel"]
    if sub_pixel:
        x = _sub_pixel(x, kernel, kernel_size, (kernel_size - 2) // 2 if crop is None else crop)
    else:
        batch, height, width = tf.shape(x)[0], tf.shape(x)[1], tf.shape(x)[2]
        if crop is None:
            x = tf.nn.conv2d_transpose(x, kernel, [batch, 2 * height, 2 * width, kernel.shape[2]], 2, "SAME")
        else:
            full = [batch, 2 * height + kernel_size - 2, 2 * width + kernel_size - 2, kernel.shape[2]]
            x = tf.nn.conv2d_transpose(x, kernel, full, 2, "VALID")[:, crop:crop + 2 * height, crop:crop + 2 * width]
    return tf.nn.bias_add(x, weights[name + "/bias"]) if name + "/bias" in weights else x


def _sub_pixel(x, kernel, kernel_size, shift):
    """conv2d_transpose's output rows and columns from `shift` on (SAME: (k - 2) // 2), by phases."""
    # output row 2m + r sums input rows m + d through kernel rows t = r + shift - 2d: for phase r,
    # rows top, top - 2, ... down to 0 or 1, over input rows m + low ... m + high
    rows = []
    for r in (0, 1):
        top = max(t for t in range(kernel_size) if (t - r - shift) % 2 == 0)
        rows.append((top, (r + shift - top) // 2, (r + shift - top % 2) // 2))
    before, after = -min(low for _, low, _ in rows), max(high for _, _, high in rows)
    x = tf.pad(x, [[0, 0], [before, after], [before, after], [0, 0]])  # zeros: no input there
    kernel = tf.transpose(kernel, [0, 1, 3, 2])  # (k, k, in, out), as conv2d takes it
    end = lambda high: -(after - high) or None  # where a phase's input rows end, from the end
    phases = [tf.nn.conv2d(x[:, before + low_h:end(high_h), before + low_w:end(high_w)],
                           kernel[top_h::-2, top_w::-2], 1, "VALID")
              for top_h, low_h, high_h in rows for top_w, low_w, high_w in rows]
    return tf.nn.depth_to_space(tf.concat(phases, -1), 2)  # channel (2r + s)·out + o -> pixel (r, s)


def instance_norm(x, weights, name, epsilon):
    """Normalise each image's channels over H and W; then gamma and beta if the weights have them."""
    mean, variance = tf.nn.moments(x, axes=[1, 2], keepdims=True)
    x = (x - mean) * tf.math.rsqrt(variance + epsilon)
    return x * weights[name + "/gamma"] + weights[name + "/beta"] if name + "/gamma" in weights else x


def leaky_relu(x, slope):
    """max(x, slope·x): LeakyReLU's values (0 <= slope <= 1). Not tf.nn.leaky_relu, whose fusion
    with the bias add before it breaks Grappler's remapper in training graphs (it logs "remapper
    failed: ... LeakyReluGrad ... missing node" and skips the whole optimisation)."""
    return tf.maximum(x, slope * x)


def pad(x, amount, mode="REFLECT", litert=False):
    """`amount` rows and columns on every side; `litert`: a reflection in the form LiteRT's
    XNNPACK runs."""
    if litert and mode == "REFLECT":
        return runtime.reflect_by_slices(x, amount, axes=(1, 2))
    return tf.pad(x, [[0, 0], [amount, amount], [amount, amount], [0, 0]], mode)


class GeneratorBase:
    """Image (B, H, W, 3) in [-1, 1] -> restyled image, same shape, any H and W.

    Subclasses set `architecture` (the native config.json's name for the family),
    `config_class`, `multiple` and `min_side` (the sides the graph takes), and implement
    `weight_layout` and `forward`."""

    architecture: ClassVar[str]
    config_class: ClassVar[type]
    multiple: int = 1
    min_side: int = 1
    CPU_ENGINE, CPU_PRECISION = runtime.CPU_DEFAULTS["Generator"]

    def __init__(self, config=None):
        self.config = self.config_class() if config is None else config
        self._w: dict[str, tf.Variable] | None = None
        signature = [tf.TensorSpec([None, None, None, 3], tf.float32)]
        self._graph = graph(lambda x: self.forward(self._w, x), input_signature=signature)
        # the same in the form LiteRT runs (`forward`'s `litert`), as two graphs: the features
        # at the network's precision, the last layer always at fp32 (see `_runner`)
        self._litert_features = graph(lambda x: self.features(self._w, x, litert=True), input_signature=signature)
        self._litert_output = graph(
            lambda x: self.output(self._w, x, litert=True),
            input_signature=[tf.TensorSpec([None, None, None, self.feature_channels], tf.float32)])
        self._run: Callable[[np.ndarray], np.ndarray] | None = None  # the graph on its engine, from the first `infer`
        # 'litert' or 'tensorflow' once `infer` ran; set 'tensorflow' first for weights that
        # change (a model in training: an export would keep the weights it was made with)
        self.engine: str | None = None
        self.precision: str | None = None  # and its weights ('fp32', 'int8'), as `engine`

    def weight_layout(self) -> Layout:
        raise NotImplementedError

    def forward(self, weights, x, training: bool = False, seed=None, litert: bool = False):
        """The graph: weights (name -> tensor), x (B, H, W, 3) with H, W as `padded_side` gives.
        `training` turns on what only training does (dropout), seeded by `seed` (2 ints);
        `litert`, the same sums in ops whose shapes all follow from the input's and that
        LiteRT's XNNPACK runs: transposed convolutions by phases (conv_transpose's
        `sub_pixel`), reflections by slices (`pad`)."""
        return self.output(weights, self.features(weights, x, training, seed, litert), litert)

    @property
    def feature_channels(self) -> int:
        """The channels `features` gives."""
        raise NotImplementedError

    def features(self, weights, x, training: bool = False, seed=None, litert: bool = False):
        """Every layer but the last, as `forward` runs them."""
        raise NotImplementedError

    def output(self, weights, x, litert: bool = False):
        """The last layer: the features to pixels in [-1, 1]."""
        raise NotImplementedError

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
        self._run = None
        if self._w is not None:  # the compiled graph holds the variables it was traced with
            for name, value in weights.items():
                self._w[name].assign(value)
            return
        # trainable, so that `synth train` trains these very variables
        self._w = {name: tf.Variable(v, name=name.replace("/", "_")) for name, v in weights.items()}

    def get_weights(self) -> dict[str, np.ndarray]:
        return {name: v.numpy() for name, v in self.variables.items()}

    @property
    def variables(self) -> dict[str, tf.Variable]:
        if self._w is None:
            raise RuntimeError(f"{type(self).__name__} has no weights: use from_pretrained or set_weights")
        return self._w

    def padded_side(self, side: int) -> int:
        """The side the graph runs at for an image side: the next multiple, at least min_side."""
        return max(self.min_side, -(-side // self.multiple) * self.multiple)

    def infer(self, images) -> np.ndarray:
        """float32 NHWC in [-1, 1] -> same shape. Sides the graph cannot take are reflect-padded
        at the bottom and right and cropped back; one compiled graph serves every size."""
        self.variables  # noqa: B018  (raises if there are none)
        images = np.asarray(images, np.float32)
        if images.ndim != 4 or images.shape[-1] != 3:
            raise ValueError(f"images must be (B, H, W, 3), got {images.shape}")
        height, width = images.shape[1:3]
        if height < 1 or width < 1:
            raise ImageError(f"images must be at least 1×1 pixels, got {height}×{width}",
                             reason="too_small", width=width, height=height, minimum=1)
        if len(images) == 0:  # no images: nothing to run (the graph's pads refuse an empty batch)
            return images
        extra = [(0, 0), (0, self.padded_side(height) - height), (0, self.padded_side(width) - width), (0, 0)]
        if any(after for _, after in extra):
            images = np.pad(images, extra, mode="reflect")
        if strips.bounded(images.shape):  # big: layer by layer over strips of rows, in bounded memory
            return strips.infer(self, images)[:, :height, :width]
        if self._run is None:
            self._run = self._runner()
        return self._run(images)[:, :height, :width]

    def apart(self) -> runtime.Part | None:
        """With int8 on LiteRT, the last layer keeps fp32 (`_runner`)."""
        return runtime.kept_fp32("last layer", self.engine, self.precision)

    def _runner(self) -> Callable[[np.ndarray], np.ndarray]:
        """The graph on the engine this network runs on. On LiteRT, the last layer, which
        writes the pixels, keeps fp32 weights whatever the precision: int8 there put the
        ResNet 7-11 dB further from fp32 on weights near trained ones (31-35 dB PSNR, against
        41.6-42.1 dB with int8 in every other layer), for about 1 % of its work."""
        name = type(self).__name__
        if (self.engine or runtime.engine(self.CPU_ENGINE)) != "litert":
            whole, self.engine, self.precision = runtime.runner(self._graph, self._w, name, self)
            return lambda images: whole(images)[0]
        features, self.engine, self.precision = runtime.runner(self._litert_features, self._w, name, self)
        output = runtime.runner(self._litert_output, self._w, name + "-output", self, fp32=True)[0]
        return lambda images: output(features(images)[0])[0]

    @classmethod
    def from_pretrained(cls, path_or_repo_id: str, revision: str | None = None):
        """Any generator synth can load (native dir, SavedModel, .h5, Hub repo), whatever its family."""
        from synth.image.loaders import load_generator

        return load_generator(path_or_repo_id, revision=revision)

    def save_pretrained(self, directory) -> None:
        from synth.image.loaders import save_native

        save_native(self, directory)


def fill_from_keras(generator: GeneratorBase, weights: KerasWeights) -> GeneratorBase | None:
    """`generator` with the Keras weights taken in order, or None unless every attribute and shape
    matches its layout (then the arrays are this family's network, not something else)."""
    layout = generator.weight_layout()
    if len(weights) != len(layout):
        return None
    same = {"scale": "gamma", "offset": "beta"}  # the tutorial's own instance norm names them so
    for (keras_name, array), (name, shape) in zip(weights, layout):
        attribute = keras_name.rsplit("/", 1)[-1]
        if array.shape != shape or not name.endswith("/" + same.get(attribute, attribute)):
            return None
    generator.set_weights({name: array for (_, array), (name, _) in zip(weights, layout)})
    return generator
