"""FastSpeech2 (text ids -> mel frames, all at once), the tensorspeech variant.

The graph follows tensorflow-tts 1.8 so that its checkpoints load unchanged: symbol and
sin/cos position embeddings, feed-forward Transformer blocks (self-attention, then two
convolutions), duration / pitch (f0) / energy predictors, pitch and energy embeddings
added to the encoder output, a length regulator that repeats each symbol for its
predicted frames, decoder blocks, a mel projection and a postnet. As in the reference,
dropout stays on the pitch and energy embeddings at inference (seeded here).

Unlike Tacotron2 it predicts how long each symbol lasts instead of attending: that is why
it is fast, cannot lose its place, and lets a caller change speed, pitch and energy.

It runs as two graphs on the engine synth/runtime.py picks, the length regulator between
them in NumPy, so that each graph's shapes follow from its inputs: the encoder (symbols ->
durations, pitch, energy and the symbols' vectors) and the decoder (frames -> mel). With
int8 weights only the decoder has them: the encoder keeps fp32, so that the durations, and
with them the length and the word timings, are fp32's (int8 there moved 20 of the tiny
fixture's 68 durations, its longest by 10 frames).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from synth import runtime
from synth.device import graph, tf
from synth.errors import OptionError, TextError
from synth.speech.checkpoint import Layout, TensorflowTTSModel
from synth.speech.config import FastSpeech2Config
from synth.speech.layers import activation, batch_norm, conv1d, dense, layer_norm
from synth.speech.mel import MelOutput, SpeechOptions

EMBEDDING_DROPOUT = 0.5  # on the pitch and energy embeddings, at inference too
MAX_POSITIONS = 8192     # sin/cos rows beyond the checkpoint's 2048: a long sentence read
                         # slowly (~95 s of frames at most) still has positions
# Inputs are padded to a multiple of SYMBOL_STEP symbols and FRAME_STEP frames (padding is
# masked, so the result is the same): TensorFlow's oneDNN kernels keep a cache entry per
# input shape, and every sentence length being a new shape grew memory without end.
SYMBOL_STEP, FRAME_STEP = 16, 64


@dataclasses.dataclass
class FastSpeech2Output:
    """Batch-first numpy outputs; frames past an item's `lengths` are zero."""
    mel_before: np.ndarray   # (B, frames, n_mels) before the postnet
    mel: np.ndarray          # (B, frames, n_mels) after the postnet residual
    durations: np.ndarray    # (B, T) int frames per symbol (0 past each item's symbols)
    f0: np.ndarray           # (B, T) predicted pitch, times f0_ratio
    energy: np.ndarray       # (B, T) predicted energy, times energy_ratio
    lengths: np.ndarray      # (B,) frames of each item: the sum of its durations


def sincos_positions(rows: int, size: int) -> np.ndarray:
    """The reference's position table: row p holds sin/cos of p / 10000^(2(i//2)/size);
    row 0 (padding) is zero."""
    angle = np.arange(rows)[:, None] / np.power(10000.0, 2.0 * (np.arange(size)[None, :] // 2) / size)
    table = np.where(np.arange(size) % 2 == 0, np.sin(angle), np.cos(angle))
    table[0] = 0.0
    return table.astype(np.float32)


def _block_layout(prefix: str, hidden: int, heads: int, head_size: int, inner: int, kernel: int):
    """One feed-forward Transformer block, in the reference's weight order."""
    attention = heads * head_size
    p = prefix + "attention/"
    return [(p + "self/query/kernel", (hidden, attention)), (p + "self/query/bias", (attention,)),
            (p + "self/key/kernel", (hidden, attention)), (p + "self/key/bias", (attention,)),
            (p + "self/value/kernel", (hidden, attention)), (p + "self/value/bias", (attention,)),
            (p + "output/dense/kernel", (attention, hidden)), (p + "output/dense/bias", (hidden,)),
            (p + "output/LayerNorm/gamma", (hidden,)), (p + "output/LayerNorm/beta", (hidden,)),
            (prefix + "intermediate/conv1d_1/kernel", (kernel, hidden, inner)),
            (prefix + "intermediate/conv1d_1/bias", (inner,)),
            (prefix + "intermediate/conv1d_2/kernel", (kernel, inner, hidden)),
            (prefix + "intermediate/conv1d_2/bias", (hidden,)),
            (prefix + "output/LayerNorm/gamma", (hidden,)), (prefix + "output/LayerNorm/beta", (hidden,))]


class FastSpeech2(TensorflowTTSModel):
    """Text ids -> mel spectrogram in one pass. Build from a config, then load."""
    HUB_ROLE = "text_to_mel"  # which repo of a catalog voice holds it
    MODEL_TYPE, CONFIG = "fastspeech2", FastSpeech2Config
    CONTROLS = ("speed", "pitch", "energy")
    CPU_ENGINE, CPU_PRECISION = runtime.CPU_DEFAULTS["FastSpeech2"]
    BATCH_SIZE = 1  # one sentence already fills the CPU (batches gain 5 %), and a batch's
                    # self-attention takes batch x frames² memory: 144 MB for 8 x 1500 frames

    def __init__(self, config: FastSpeech2Config):
        self.config = config
        self._w: dict[str, tf.Variable] | None = None
        vectors = tf.TensorSpec([None, None, config.encoder_hidden_size], tf.float32)
        self._encode = graph(self._encoder_graph, input_signature=[
            tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.int32),
            tf.TensorSpec([None], tf.float32), tf.TensorSpec([None], tf.float32),
            tf.TensorSpec([None], tf.float32), vectors, vectors])
        self._decode = graph(self._decoder_graph, input_signature=[vectors, tf.TensorSpec([None], tf.int32)])
        # `_encode` and `_decode` on the engine in use, from the first call
        self._run_encoder: runtime.Graph | None = None
        self._run_decoder: runtime.Graph | None = None
        self.engine: str | None = None     # that engine's name ('litert', 'tensorflow')
        self.precision: str | None = None  # and the decoder's weights ('fp32', 'int8'); the encoder's are fp32

    def apart(self) -> runtime.Part | None:
        """With int8 on LiteRT, the encoder keeps fp32 (module docstring)."""
        return runtime.kept_fp32("encoder", self.engine, self.precision)

    # -- checkpoint -------------------------------------------------------------------
    def weight_layout(self) -> Layout:
        """Groups, weight names and shapes exactly as tensorflow-tts saved them (its
        position tables included, and the groups of weightless layers)."""
        c = self.config
        enc, dec = c.encoder_hidden_size, c.decoder_hidden_size
        positions = c.max_position_embeddings + 1
        encoder = [w for i in range(c.encoder_num_hidden_layers) for w in _block_layout(
            f"encoder/layer_._{i}/", enc, c.encoder_num_attention_heads, c.encoder_attention_head_size,
            c.encoder_intermediate_size, c.encoder_intermediate_kernel_size)]
        decoder = [w for i in range(c.decoder_num_hidden_layers) for w in _block_layout(
            f"decoder/layer_._{i}/", dec, c.decoder_num_attention_heads, c.decoder_attention_head_size,
            c.decoder_intermediate_size, c.decoder_intermediate_kernel_size)]
        if enc != dec:
            decoder += [("decoder/project_compatible_decoder/kernel", (enc, dec)),
                        ("decoder/project_compatible_decoder/bias", (dec,))]
        decoder += [("decoder/position_embeddings/embeddings", (positions, dec))]
        postnet, statistics = [], []
        channels = c.num_mels
        for i in range(c.n_conv_postnet):
            filters = c.postnet_conv_filters if i < c.n_conv_postnet - 1 else c.num_mels
            postnet += [(f"postnet/conv_._{i}/kernel", (c.postnet_conv_kernel_sizes, channels, filters)),
                        (f"postnet/conv_._{i}/bias", (filters,)),
                        (f"postnet/batch_norm_._{i}/gamma", (filters,)),
                        (f"postnet/batch_norm_._{i}/beta", (filters,))]
            statistics += [(f"postnet/batch_norm_._{i}/moving_mean", (filters,)),
                           (f"postnet/batch_norm_._{i}/moving_variance", (filters,))]
            channels = filters

        def predictor(name):
            weights, channels = [], enc
            for i in range(c.variant_prediction_num_conv_layers):
                filters = c.variant_predictor_filter
                weights += [(f"{name}/conv_._{i}/kernel", (c.variant_predictor_kernel_size, channels, filters)),
                            (f"{name}/conv_._{i}/bias", (filters,)),
                            (f"{name}/LayerNorm_._{i}/gamma", (filters,)),
                            (f"{name}/LayerNorm_._{i}/beta", (filters,))]
                channels = filters
            return (name, weights + [(f"{name}/dense/kernel", (channels, 1)), (f"{name}/dense/bias", (1,))])

        return [("embeddings", [("embeddings/charactor_embeddings/weight", (c.vocab_size, enc)),
                                ("embeddings/position_embeddings/embeddings", (positions, enc))]),
                ("encoder", encoder), ("length_regulator", []), ("decoder", decoder),
                ("mel_before", [("mel_before/kernel", (dec, c.num_mels)), ("mel_before/bias", (c.num_mels,))]),
                ("postnet", postnet + statistics),
                predictor("f0_predictor"), predictor("energy_predictor"), predictor("duration_predictor"),
                ("f0_embeddings", [("f0_embeddings/kernel", (9, 1, enc)), ("f0_embeddings/bias", (enc,))]),
                ("f0_dropout", []),
                ("energy_embeddings", [("energy_embeddings/kernel", (9, 1, enc)), ("energy_embeddings/bias", (enc,))]),
                ("energy_dropout", [])]

    def set_weights(self, arrays: dict[str, np.ndarray]) -> None:
        """Take checkpoint arrays (names of `weight_layout`); the position tables are
        extended to MAX_POSITIONS rows with the same formula."""
        w = {name: np.asarray(arrays[name], np.float32) for _, group in self.weight_layout()
             for name, _ in group}
        for name in ("embeddings/position_embeddings/embeddings", "decoder/position_embeddings/embeddings"):
            table = w[name]
            longer = sincos_positions(max(MAX_POSITIONS, len(table)), table.shape[1])
            longer[:len(table)] = table
            w[name] = longer
        self._run_encoder = self._run_decoder = None
        self._w = {name: tf.Variable(value, trainable=False, name=name.replace("/", "_"))
                   for name, value in w.items()}

    # -- inference --------------------------------------------------------------------
    def infer(self, ids, lengths=None, speed_ratio=1.0, f0_ratio=1.0, energy_ratio=1.0,
              seed: int | None = None, dropout: bool = True) -> FastSpeech2Output:
        """Decode ids: (T,), (B, T) padded with `lengths`, or a list of sequences. The
        ratios (a number, or one per item) are the reference's: `speed_ratio` multiplies
        the durations (0.8 speaks faster), `f0_ratio` the pitch, `energy_ratio` the energy.
        `dropout=False` turns off the embedding dropout the model was trained to keep."""
        ids, lengths = self.checked_batch(ids, lengths)
        if ids.shape[1] >= MAX_POSITIONS:
            raise TextError(f"{ids.shape[1]} symbols is too many for one FastSpeech2 pass; "
                            f"at most {MAX_POSITIONS - 1}", reason="too_long",
                            length=int(ids.shape[1]), limit=MAX_POSITIONS - 1)
        ratios = [_per_item(name, value, len(ids)) for name, value in
                  (("speed_ratio", speed_ratio), ("f0_ratio", f0_ratio), ("energy_ratio", energy_ratio))]
        symbols = ids.shape[1]
        padded = np.pad(ids, [(0, 0), (0, min(-symbols % SYMBOL_STEP, MAX_POSITIONS - 1 - symbols))])
        if self._run_decoder is None:
            self._run_decoder, self.engine, self.precision = runtime.runner(
                self._decode, self._w, "fastspeech2-decoder", self)
            self._run_encoder = runtime.runner(self._encode, self._w, "fastspeech2-encoder", self, fp32=True)[0]
        x, durations, f0, energy = self._run_encoder(padded, lengths, *ratios,
                                                     *self._keep(padded.shape, seed, dropout))
        frames = durations.sum(axis=1, dtype=np.int32)
        mel_before, mel = self._run_decoder(regulate(x, durations), frames)
        longest = frames.max()
        return FastSpeech2Output(mel_before[:, :longest], mel[:, :longest], durations[:, :symbols],
                                 f0[:, :symbols], energy[:, :symbols], frames)

    def to_mel(self, ids: list[list[int]], options: SpeechOptions) -> MelOutput:
        """The voice layer's entry: `speed` 2 halves every duration, `pitch` and `energy`
        scale the predicted pitch and energy."""
        out = self.infer(ids, speed_ratio=1.0 / options.speed, f0_ratio=options.pitch,
                         energy_ratio=options.energy, seed=options.seed)
        return MelOutput(mels=[mel[:n] for mel, n in zip(out.mel, out.lengths)],
                         durations=[d[:len(item)] for d, item in zip(out.durations, ids)])

    def _block(self, x, mask, prefix, heads, head_size, act):
        """A feed-forward Transformer block. `mask` (B, T, 1) zeroes the padding after every
        layer (the reference masks less), so that no convolution reads padding: an item in a
        batch gives what it gives alone, where a convolution sees zeros past its end."""
        w = self._w
        batch = tf.shape(x)[0]
        p = prefix + "attention/"

        def split(t):  # (B, T, heads * size) -> (B, heads, T, size)
            return tf.transpose(tf.reshape(t, [batch, -1, heads, head_size]), [0, 2, 1, 3])

        q, k, v = (split(dense(x, w[f"{p}self/{n}/kernel"], w[f"{p}self/{n}/bias"]))
                   for n in ("query", "key", "value"))
        scores = tf.matmul(q, k, transpose_b=True) / tf.sqrt(float(head_size))
        # (B, T, 1) -> (B, 1, 1, T) by a reshape: written as transpose + expand_dims, this
        # mask came out of TensorFlow 2.21's LiteRT converter with its sign flipped
        scores += tf.reshape(1.0 - mask, [batch, 1, 1, -1]) * -1e9
        context = tf.matmul(tf.nn.softmax(scores, axis=-1), v)
        context = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [batch, -1, heads * head_size])
        attended = dense(context, w[p + "output/dense/kernel"], w[p + "output/dense/bias"])
        attended = layer_norm(attended + x, w[p + "output/LayerNorm/gamma"], w[p + "output/LayerNorm/beta"],
                              self.config.layer_norm_eps) * mask
        inner = act(conv1d(attended, w[prefix + "intermediate/conv1d_1/kernel"],
                           w[prefix + "intermediate/conv1d_1/bias"])) * mask
        inner = conv1d(inner, w[prefix + "intermediate/conv1d_2/kernel"],
                       w[prefix + "intermediate/conv1d_2/bias"]) * mask
        return layer_norm(inner + attended, w[prefix + "output/LayerNorm/gamma"],
                          w[prefix + "output/LayerNorm/beta"], self.config.layer_norm_eps) * mask

    def _predictor(self, x, mask, name):
        """Duration, pitch or energy per symbol: convolutions, ReLU, LayerNorm, a dense."""
        w = self._w
        x = x * mask
        for i in range(self.config.variant_prediction_num_conv_layers):
            x = tf.nn.relu(conv1d(x, w[f"{name}/conv_._{i}/kernel"], w[f"{name}/conv_._{i}/bias"]))
            x = layer_norm(x, w[f"{name}/LayerNorm_._{i}/gamma"], w[f"{name}/LayerNorm_._{i}/beta"],
                           self.config.layer_norm_eps) * mask
        return tf.squeeze(dense(x, w[f"{name}/dense/kernel"], w[f"{name}/dense/bias"]) * mask, -1)

    def _keep(self, shape, seed, dropout) -> tuple[np.ndarray, np.ndarray]:
        """The dropout masks of the pitch and energy embeddings, (B, T, hidden) each: 0 where
        dropped, 1 / (1 - rate) where kept; all ones without dropout. Drawn here, outside the
        graph (LiteRT has no random ops), by TensorFlow's stateless generator from `seed`:
        the draws the graph made when it drew them itself, so a seed speaks as it did, on
        either engine."""
        shape = (*shape, self.config.encoder_hidden_size)
        if not dropout:
            return np.ones(shape, np.float32), np.ones(shape, np.float32)
        seed_pair = tf.constant(np.random.default_rng(seed).integers(0, 2**31 - 1, size=2), tf.int64)
        return tuple((tf.cast(tf.random.stateless_uniform(shape, s) >= EMBEDDING_DROPOUT, tf.float32)
                      / (1.0 - EMBEDDING_DROPOUT)).numpy() for s in (seed_pair, seed_pair + [0, 1]))

    def _embed_variant(self, values, name, keep):
        """A pitch or energy curve (B, T) -> (B, T, hidden), times its dropout mask."""
        return conv1d(tf.expand_dims(values, 2), self._w[name + "/kernel"], self._w[name + "/bias"]) * keep

    def _encoder_graph(self, ids, lengths, speed_ratios, f0_ratios, energy_ratios, f0_keep, energy_keep):
        """Symbols -> their vectors with pitch and energy added (B, T, hidden), durations,
        pitch and energy. No random draws (the dropout masks are inputs) and new axes made by
        expand_dims: ops that LiteRT has too."""
        c, w = self.config, self._w
        time = tf.shape(ids)[1]
        mask = tf.expand_dims(tf.sequence_mask(lengths, time, dtype=tf.float32), 2)
        x = tf.gather(w["embeddings/charactor_embeddings/weight"], ids)
        x += tf.expand_dims(w["embeddings/position_embeddings/embeddings"][1:time + 1], 0)
        act = activation(c.encoder_hidden_act)
        for i in range(c.encoder_num_hidden_layers):
            x = self._block(x, mask, f"encoder/layer_._{i}/", c.encoder_num_attention_heads,
                            c.encoder_attention_head_size, act)

        log_durations = self._predictor(x, mask, "duration_predictor")
        durations = tf.nn.relu(tf.exp(log_durations) - 1.0) * tf.expand_dims(speed_ratios, 1)
        longest = tf.one_hot(tf.argmax(durations - (1.0 - mask[:, :, 0]), axis=1), time, dtype=tf.int32)
        durations = tf.cast(tf.round(durations), tf.int32)
        # An item whose durations all round to 0 gets one frame on its longest symbol, so
        # that every input is heard (the reference would give an empty mel).
        silent = tf.cast(tf.reduce_sum(durations, axis=1, keepdims=True) == 0, tf.int32)
        durations += longest * silent
        f0 = self._predictor(x, mask, "f0_predictor") * tf.expand_dims(f0_ratios, 1)
        energy = self._predictor(x, mask, "energy_predictor") * tf.expand_dims(energy_ratios, 1)
        x += self._embed_variant(f0, "f0_embeddings", f0_keep)
        x += self._embed_variant(energy, "energy_embeddings", energy_keep)
        return x, durations, f0, energy

    def _decoder_graph(self, x, frame_lengths):
        """Frames (B, frames, hidden), each its symbol's vector, -> mel before and after the
        postnet."""
        c, w = self.config, self._w
        frames = tf.shape(x)[1]
        frame_mask = tf.expand_dims(tf.sequence_mask(frame_lengths, frames, dtype=tf.float32), 2)
        if c.encoder_hidden_size != c.decoder_hidden_size:
            x = dense(x, w["decoder/project_compatible_decoder/kernel"], w["decoder/project_compatible_decoder/bias"])
        x += tf.expand_dims(w["decoder/position_embeddings/embeddings"][1:frames + 1], 0) * frame_mask
        act = activation(c.decoder_hidden_act)
        for i in range(c.decoder_num_hidden_layers):
            x = self._block(x, frame_mask, f"decoder/layer_._{i}/", c.decoder_num_attention_heads,
                            c.decoder_attention_head_size, act)

        mel_before = dense(x, w["mel_before/kernel"], w["mel_before/bias"]) * frame_mask
        y = mel_before
        for i in range(c.n_conv_postnet):
            y = conv1d(y, w[f"postnet/conv_._{i}/kernel"], w[f"postnet/conv_._{i}/bias"])
            y = batch_norm(y, *(w[f"postnet/batch_norm_._{i}/{n}"]
                                for n in ("gamma", "beta", "moving_mean", "moving_variance")))
            y = (tf.tanh(y) if i < c.n_conv_postnet - 1 else y) * frame_mask
        return mel_before, mel_before + y


def regulate(x: np.ndarray, durations: np.ndarray) -> np.ndarray:
    """The length regulator: each symbol's vector repeated for its frames, (B, T, hidden) ->
    (B, frames, hidden), zeros past an item's frames; frames a multiple of FRAME_STEP (at
    most MAX_POSITIONS - 1, where a longer item is cut)."""
    lengths = durations.sum(axis=1)
    frames = min(-(-int(lengths.max()) // FRAME_STEP) * FRAME_STEP, MAX_POSITIONS - 1)
    out = np.zeros((len(x), frames, x.shape[2]), np.float32)
    for item, (vectors, repeats) in enumerate(zip(x, durations)):
        repeated = np.repeat(vectors, repeats, axis=0)[:frames]
        out[item, :len(repeated)] = repeated
    return out


def _per_item(name: str, value, batch: int) -> np.ndarray:
    values = np.broadcast_to(np.asarray(value, np.float32), (batch,)).copy()
    if not np.all(values > 0):
        raise OptionError(f"{name} must be above 0, got {value}", reason=name, value=value)
    return values
