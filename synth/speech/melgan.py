"""Multi-band MelGAN generator (mel -> 4 sub-bands) and PQMF synthesis (-> waveform).

Same graph as tensorflow-tts 1.8's TFMBMelGANGenerator, so that its checkpoints load
unchanged; any `upsample_scales` (8·4·2 for hop 256, 3·5·5 for hop 300).

LiteRT runs the same sums written in ops its XNNPACK delegate takes whatever the mel's
length (`_graph`'s `litert`): XNNPACK has no reflection padding, and takes a transposed
convolution only when its output shape is a constant. Exported as TensorFlow writes them,
the reflection pads split the graph into 14 pieces run between XNNPACK's, and the transposed
convolutions fell to LiteRT's own kernels: fp32 ran at TensorFlow's speed, int8 at a tenth
of it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from synth import runtime
from synth.device import graph, tf
from synth.speech.checkpoint import Layout, load_pretrained
from synth.speech.config import MultiBandMelGANConfig, build, read_config

MODEL_TYPES = ("multiband_melgan_generator",)


def pqmf_synthesis_filter(subbands: int, taps: int, cutoff_ratio: float, beta: float) -> np.ndarray:
    """Cosine-modulated synthesis filters (taps+1, subbands, 1) from a Kaiser prototype."""
    n = np.arange(taps + 1) - taps / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        prototype = np.sin(np.pi * cutoff_ratio * n) / (np.pi * n)
    prototype[taps // 2] = cutoff_ratio
    prototype = prototype * np.kaiser(taps + 1, beta)
    k = np.arange(subbands)[:, None]
    filters = 2 * prototype * np.cos((2 * k + 1) * np.pi / (2 * subbands) * n - (-1.0) ** k * np.pi / 4)
    return filters.T[:, :, None].astype(np.float32)


def pqmf_synthesis_phases(filters: np.ndarray, subbands: int) -> tuple[np.ndarray, tuple[int, int]]:
    """PQMF synthesis (zero-stuff each band by M = `subbands`, scaled by M; filter; sum) as one
    convolution of the sub-bands themselves with M output phases: output sample M·q + r is
    Σ_d Σ_b M·x[q + d, b]·h[M·d + P - r, b], P = taps // 2, the stuffed zeros adding nothing.
    Returns the kernel (d's, 1, bands, phases) and the zero rows the sub-bands take before and
    after it."""
    taps, m = filters.shape[0] - 1, subbands
    first, last = -((taps // 2) // m), (taps + m - 1 - taps // 2) // m
    kernel = np.zeros((last - first + 1, 1, m, m), np.float32)
    for d in range(first, last + 1):
        for r in range(m):
            tap = m * d + taps // 2 - r
            if 0 <= tap <= taps:
                kernel[d - first, 0, :, r] = m * filters[tap, :, 0]
    return kernel, (-first, last)


def _upsample_by_phases(x, kernel, scale: int):
    """tf.nn.conv2d_transpose(x, kernel, stride (scale, 1), "SAME") for one item x (1, T, 1, in),
    kernel (2·scale, 1, out, in), in shapes that follow from x's: output row scale·q + r sums
    input rows q - 1 and q through kernel rows c + scale and c when c = r + scale // 2 (SAME
    drops the full output's first scale // 2 rows) is below scale, else rows q and q + 1
    through c and c - scale. Two convolutions make those phases, a reshape interleaves them."""
    w = tf.transpose(kernel[:, 0], [0, 2, 1])  # (2·scale, in, out)
    shift = scale // 2
    split = scale - shift  # phases 0 .. split - 1 read rows q - 1 and q; the rest q and q + 1
    before = tf.concat([tf.stack([w[r + shift + scale], w[r + shift]]) for r in range(split)], -1)
    phases = [tf.nn.conv2d(tf.pad(x, [[0, 0], [1, 0], [0, 0], [0, 0]]), before[:, None], 1, "VALID")]
    if split < scale:
        after = tf.concat([tf.stack([w[r + shift], w[r + shift - scale]]) for r in range(split, scale)], -1)
        phases.append(tf.nn.conv2d(tf.pad(x, [[0, 0], [0, 1], [0, 0], [0, 0]]), after[:, None], 1, "VALID"))
    return tf.reshape(tf.concat(phases, -1), [1, -1, 1, kernel.shape[2]])  # channel r·out + o -> row scale·q + r


class MultiBandMelGAN:
    """Mel (B, frames, 80) -> waveform (B, frames * hop). Build from config, then load."""
    HUB_ROLE = "vocoder"  # which repo of a catalog voice holds it
    CPU_ENGINE, CPU_PRECISION = runtime.CPU_DEFAULTS["MultiBandMelGAN"]

    def __init__(self, config: MultiBandMelGANConfig, sample_rate: int | None = None):
        self.config = config
        self.sample_rate = sample_rate
        self._w: dict[str, tf.Variable] | None = None
        c = config
        self._synthesis = tf.constant(pqmf_synthesis_filter(c.subbands, c.taps, c.cutoff_ratio, c.beta))
        updown = np.zeros((c.subbands, c.subbands, c.subbands), np.float32)
        updown[0, np.arange(c.subbands), np.arange(c.subbands)] = c.subbands
        self._upsample = tf.constant(updown)
        phases, self._phase_pads = pqmf_synthesis_phases(pqmf_synthesis_filter(c.subbands, c.taps, c.cutoff_ratio,
                                                                               c.beta), c.subbands)
        self._synthesis_phases = tf.constant(phases)
        self._generate = graph(self._graph, input_signature=[tf.TensorSpec([None, None, 80], tf.float32)])
        # the same for LiteRT, one item at a time: a reshape XNNPACK takes may leave one side open
        self._litert_generate = graph(lambda mel: self._graph(mel, litert=True),
                                      input_signature=[tf.TensorSpec([1, None, 80], tf.float32)])
        self._run: runtime.Graph | None = None  # one of those on the engine in use, from the first call
        self._one_at_a_time = False             # whether `_run` is `_litert_generate`
        self.engine: str | None = None          # that engine's name ('litert', 'tensorflow')
        self.precision: str | None = None       # and its weights ('fp32', 'int8')

    @property
    def hop_size(self) -> int:
        return self.config.hop_size

    @property
    def min_frames(self) -> int:
        """The fewest mel frames the graph runs on. TensorFlow's REFLECT padding needs each pad
        shorter than what it pads: conv_in pads the mel by (kernel_size - 1) // 2; the residual
        stacks of the first stage pad a signal `upsample_scales[0]` times the mel's length by up
        to (stack_kernel_size - 1) // 2 * stack_kernel_size ** (stacks - 1) (later stages run at
        higher rates on the same dilations); conv_out pads the sub-bands, hop / subbands times
        the mel's length. tensorflow-tts' LJSpeech config (8·4·2, 4 stacks) needs 4 frames, its
        Baker one (3·5·5, 4 stacks) 10."""
        c = self.config
        half = (c.kernel_size - 1) // 2
        widest = (c.stack_kernel_size - 1) // 2 * c.stack_kernel_size ** (c.stacks - 1) if c.stacks else 0
        need, rate = half + 1, 1
        for scale in c.upsample_scales:
            rate *= scale
            need = max(need, -(-(widest + 1) // rate))
        return max(need, -(-(half + 1) // rate))

    def _stages(self):
        """(upsample scale, channels) of each upsampling stage."""
        return [(s, self.config.filters // 2 ** (i + 1)) for i, s in enumerate(self.config.upsample_scales)]

    def weight_layout(self) -> Layout:
        c = self.config
        weights = [("conv_in/kernel", (c.kernel_size, 80, c.filters)), ("conv_in/bias", (c.filters,))]
        channels = c.filters
        for i, (scale, out) in enumerate(self._stages()):
            weights += [(f"up_{i}/kernel", (2 * scale, 1, out, channels)), (f"up_{i}/bias", (out,))]
            for j in range(c.stacks):
                p = f"stack_{i}_{j}/"
                weights += [(p + "conv/kernel", (c.stack_kernel_size, out, out)), (p + "conv/bias", (out,)),
                            (p + "conv1x1/kernel", (1, out, out)), (p + "conv1x1/bias", (out,)),
                            (p + "shortcut/kernel", (1, out, out)), (p + "shortcut/bias", (out,))]
            channels = out
        weights += [("conv_out/kernel", (c.kernel_size, channels, c.out_channels)),
                    ("conv_out/bias", (c.out_channels,))]
        if not c.use_bias:
            weights = [(n, s) for n, s in weights if not n.endswith("/bias")]
        return [("sequential", weights), ("pqmf", [])]

    def set_weights(self, arrays: dict[str, np.ndarray]) -> None:
        self._run = None
        values = {name: np.asarray(arrays[name], np.float32) for _, group in self.weight_layout() for name, _ in group}
        if self._w is not None:  # the compiled graph holds the variables it was traced with
            for name, value in values.items():
                self._w[name].assign(value)
            return
        self._w = {name: tf.Variable(value, trainable=False, name=name.replace("/", "_"))
                   for name, value in values.items()}

    @classmethod
    def from_config(cls, model_dir: str | Path) -> "MultiBandMelGAN":
        _, params, config = read_config(model_dir, MODEL_TYPES)
        return cls(build(MultiBandMelGANConfig, params, f"{model_dir}/config.yml"),
                   sample_rate=config.get("sampling_rate"))

    @classmethod
    def from_pretrained(cls, path_or_repo_id: str, revision: str | None = None) -> "MultiBandMelGAN":
        return load_pretrained(cls, path_or_repo_id, revision)

    def apart(self) -> runtime.Part | None:
        """No part of it runs otherwise than the whole."""
        return None

    def infer(self, mel) -> np.ndarray:
        """(B, frames, n_mels) or (frames, n_mels) -> (B, frames * hop) float32, unclipped;
        any frames >= 1 (fewer than min_frames: see below)."""
        if self._w is None:
            raise RuntimeError("MultiBandMelGAN has no weights: use from_pretrained or set_weights")
        mel = np.asarray(mel, np.float32)
        if mel.ndim == 2:
            mel = mel[None]
        if mel.ndim != 3 or mel.shape[-1] != 80 or mel.shape[1] < 1:
            raise ValueError(f"mel must be (B, frames, 80) with frames >= 1, got {mel.shape}")
        frames = mel.shape[1]
        if len(mel) == 0:  # no items: no audio (the graph's pads refuse an empty batch)
            return np.zeros((0, frames * self.hop_size), np.float32)
        # A mel shorter than the graph takes (a stop token that fired at once) is vocoded with
        # its last frame repeated up to min_frames, and the audio cut back to frames x hop. A
        # mel of min_frames or more goes to the graph untouched: the same input, the same output.
        if frames < self.min_frames:
            mel = np.pad(mel, [(0, 0), (0, self.min_frames - frames), (0, 0)], mode="edge")
        if self._run is None:
            self._one_at_a_time = (self.engine or runtime.engine(self.CPU_ENGINE)) == "litert"
            self._run, self.engine, self.precision = runtime.runner(
                self._litert_generate if self._one_at_a_time else self._generate, self._w, "multiband-melgan", self)
        if self._one_at_a_time:  # each item alone: with int8, its rounding owes nothing to its batch mates
            audio = np.concatenate([self._run(item[None])[0] for item in mel])
        else:
            audio = self._run(mel)[0]
        return audio[:, :frames * self.hop_size]

    def _conv(self, x, name, dilation=1):
        """A 1-D convolution over (B, T, 1, C), as conv1d makes it: conv2d over a width of one."""
        x = tf.nn.conv2d(x, self._w[name + "/kernel"][:, None], 1, "VALID", dilations=(dilation, 1))
        return x + self._w[name + "/bias"] if self.config.use_bias else x

    def _graph(self, mel, litert: bool = False):
        """Mel (B, frames, 80) -> waveform (B, frames * hop), in (B, T, 1, C) throughout.
        `litert`: the form LiteRT's XNNPACK runs whole at any length (module docstring), for
        one item at a time: reflection by slices, each transposed convolution as its sub-pixel
        convolutions, and a reshape that interleaves their phases."""
        c = self.config
        alpha = float(c.nonlinear_activation_params.get("alpha", 0.2))
        act = lambda t: tf.nn.leaky_relu(t, alpha)
        reflect = runtime.reflect_by_slices if litert else lambda t, p: tf.pad(t, [[0, 0], [p, p], [0, 0], [0, 0]], "REFLECT")
        half = (c.kernel_size - 1) // 2
        x = tf.reshape(mel, [1, -1, 1, 80]) if litert else tf.expand_dims(mel, 2)
        x = self._conv(reflect(x, half), "conv_in")
        for i, (scale, out) in enumerate(self._stages()):
            x = act(x)
            kernel = self._w[f"up_{i}/kernel"]
            if litert:
                x = _upsample_by_phases(x, kernel, scale)
            else:
                batch, frames = tf.shape(x)[0], tf.shape(x)[1]
                x = tf.nn.conv2d_transpose(x, kernel, tf.stack([batch, frames * scale, 1, out]), (scale, 1), "SAME")
            if c.use_bias:
                x = x + self._w[f"up_{i}/bias"]
            for j in range(c.stacks):
                p, dilation = f"stack_{i}_{j}/", c.stack_kernel_size ** j
                y = self._conv(reflect(act(x), (c.stack_kernel_size - 1) // 2 * dilation), p + "conv", dilation)
                y = self._conv(act(y), p + "conv1x1")
                x = self._conv(x, p + "shortcut") + y
        x = self._conv(reflect(act(x), half), "conv_out")
        if c.use_final_nolinear_activation:
            x = tf.tanh(x)
        if litert:  # PQMF synthesis: each output phase a convolution of the sub-bands
            x = tf.pad(x, [[0, 0], self._phase_pads, [0, 0], [0, 0]])
            x = tf.nn.conv2d(x, self._synthesis_phases, 1, "VALID")
            return tf.reshape(x, [1, -1])
        # PQMF synthesis: zero-stuff each band by `subbands`, then filter and sum.
        x = tf.squeeze(x, 2)
        batch, frames = tf.shape(x)[0], tf.shape(x)[1]
        x = tf.nn.conv1d_transpose(x, self._upsample, tf.stack([batch, frames * c.subbands, c.subbands]),
                                   c.subbands)
        x = tf.pad(x, [[0, 0], [c.taps // 2, c.taps // 2], [0, 0]])
        return tf.squeeze(tf.nn.conv1d(x, self._synthesis, 1, "VALID"), -1)
