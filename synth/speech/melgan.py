"""Multi-band MelGAN generator (mel -> 4 sub-bands) and PQMF synthesis (-> waveform).

Same graph as tensorflow-tts 1.8's TFMBMelGANGenerator, so that its checkpoints load
unchanged; any `upsample_scales` (8·4·2 for hop 256, 3·5·5 for hop 300).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from synth import runtime
from synth.device import tf
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
        self._generate = tf.function(self._graph, input_signature=[tf.TensorSpec([None, None, 80], tf.float32)])
        self._run: runtime.Graph | None = None  # `_generate` on the engine in use, from the first call
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
            self._run, self.engine, self.precision = runtime.runner(self._generate, self._w, "multiband-melgan", self)
        return self._run(mel)[0][:, :frames * self.hop_size]

    def _conv(self, x, name, dilation=1):
        x = tf.nn.conv1d(x, self._w[name + "/kernel"], 1, "VALID", dilations=dilation)
        return x + self._w[name + "/bias"] if self.config.use_bias else x

    def _graph(self, mel):
        c = self.config
        alpha = float(c.nonlinear_activation_params.get("alpha", 0.2))
        act = lambda t: tf.nn.leaky_relu(t, alpha)
        reflect = lambda t, p: tf.pad(t, [[0, 0], [p, p], [0, 0]], "REFLECT")
        half = (c.kernel_size - 1) // 2
        x = self._conv(reflect(mel, half), "conv_in")
        for i, (scale, out) in enumerate(self._stages()):
            x = act(x)
            batch, frames = tf.shape(x)[0], tf.shape(x)[1]
            x = tf.nn.conv2d_transpose(tf.expand_dims(x, 2), self._w[f"up_{i}/kernel"],
                                       tf.stack([batch, frames * scale, 1, out]), (scale, 1), "SAME")
            x = tf.squeeze(x, 2)
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
        # PQMF synthesis: zero-stuff each band by `subbands`, then filter and sum.
        batch, frames = tf.shape(x)[0], tf.shape(x)[1]
        x = tf.nn.conv1d_transpose(x, self._upsample, tf.stack([batch, frames * c.subbands, c.subbands]),
                                   c.subbands)
        x = tf.pad(x, [[0, 0], [c.taps // 2, c.taps // 2], [0, 0]])
        return tf.squeeze(tf.nn.conv1d(x, self._synthesis, 1, "VALID"), -1)
