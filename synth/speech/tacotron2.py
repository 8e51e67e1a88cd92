"""Tacotron2 (text ids -> mel frames), the tensorspeech variant, as plain TensorFlow ops.

The graph follows tensorflow-tts 1.8 step for step so that its checkpoints load
unchanged: embedding + LayerNorm, conv/batch-norm stack, BiLSTM encoder, a decoder cell
with prenet (dropout on at inference, as trained), attention LSTM, location-sensitive
attention, decoder LSTMs, frame and stop projections, then a postnet. What differs is
batching: every stage is masked to each item's own length, so an item decoded in a
batch gives what it gives alone, and each item stops on its own stop token.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from synth import runtime
from synth.device import graph, tf
from synth.errors import OptionError
from synth.speech.checkpoint import Layout, TensorflowTTSModel
from synth.speech.config import Tacotron2Config
from synth.speech.layers import activation, batch_norm, conv1d, layer_norm
from synth.speech.mel import MelOutput, SpeechOptions, stretch

FRAMES_PER_SYMBOL = 10     # default decoder cap: generous for any speaking rate ...
MIN_FRAMES = 50
MAX_FRAMES = 2000          # ... but never more than ~23 s of audio for one sentence


@dataclasses.dataclass
class Tacotron2Output:
    """Batch-first numpy outputs; frames past an item's `lengths` are zero."""
    mel_before: np.ndarray   # (B, frames, n_mels) decoder output, before the postnet
    mel: np.ndarray          # (B, frames, n_mels) after the postnet residual
    stop_logits: np.ndarray  # (B, frames)
    alignment: np.ndarray    # (B, T, steps), steps = frames / reduction_factor
    lengths: np.ndarray      # (B,) frames of each item, up to and including its stop


def _conv_bn_layout(prefix, count, kernel, channels, filters):
    """Weights of a conv/batch-norm stack: (trainable ones in order, moving statistics)."""
    weights, stats = [], []
    for i in range(count):
        p = f"{prefix}{i}/"
        weights += [(p + "conv/kernel", (kernel, channels if i == 0 else filters, filters)),
                    (p + "conv/bias", (filters,)), (p + "bn/gamma", (filters,)), (p + "bn/beta", (filters,))]
        stats += [(p + "bn/moving_mean", (filters,)), (p + "bn/moving_variance", (filters,))]
    return weights, stats


def _conv_bn(x, w, prefix, mask):
    """Masked 'same' conv1d + inference batch norm, as TFTacotronConvBatchNorm."""
    x = conv1d(x * mask, w[prefix + "conv/kernel"], w[prefix + "conv/bias"])
    return batch_norm(x, *(w[prefix + "bn/" + n] for n in ("gamma", "beta", "moving_mean", "moving_variance")))


def _lstm_gates(z, c):
    """Keras LSTM cell update from pre-activations z = [i, f, c, o]."""
    i, f, g, o = tf.split(z, 4, axis=-1)
    c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
    return tf.sigmoid(o) * tf.tanh(c), c


def _lstm_sequence(x, kernel, recurrent, bias):
    """Run an LSTM over (B, T, C); returns (B, T, U)."""
    units = recurrent.shape[0]
    xz = tf.transpose(tf.einsum("btc,cu->btu", x, kernel) + bias, [1, 0, 2])
    zeros = tf.zeros([tf.shape(x)[0], units])

    def step(carry, z):
        h, c = carry
        return _lstm_gates(z + tf.matmul(h, recurrent), c)

    hs, _ = tf.scan(step, xz, initializer=(zeros, zeros))
    return tf.transpose(hs, [1, 0, 2])


class Tacotron2(TensorflowTTSModel):
    """Text ids -> mel spectrogram. Build from a config, then `set_weights` or load."""
    HUB_ROLE = "text_to_mel"  # which repo of a catalog voice holds it
    MODEL_TYPE, CONFIG = "tacotron2", Tacotron2Config
    CONTROLS = ("speed",)     # speed stretches the mel; no pitch or energy to scale
    BATCH_SIZE = 8            # sentences decoded together: a step reads all the LSTM weights
                              # whatever the batch, so 8 cost little more than 1
    CPU_ENGINE, CPU_PRECISION = runtime.CPU_DEFAULTS["Tacotron2"]  # of its decoder step

    def __init__(self, config: Tacotron2Config):
        self.config = config
        self._w: dict[str, tf.Variable] | None = None
        c = config
        ids, lengths = tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.int32)
        # TensorFlow decodes in one graph (its loop included); LiteRT cannot take that loop (its
        # growing TensorArrays), so there the encoder and postnet run on TensorFlow and the
        # decoder step, where the time goes, runs exported, from a loop in Python.
        self._decode = graph(self._decode_graph, input_signature=[
            ids, lengths, tf.TensorSpec([None], tf.int32), tf.TensorSpec([2], tf.int64)])
        self._memory_graph = graph(self._memory, input_signature=[ids, lengths])
        self._postnet_graph = graph(self._postnet, input_signature=[
            tf.TensorSpec([None, None, c.n_mels], tf.float32), lengths])
        dec, memory = c.decoder_lstm_units, 2 * c.encoder_lstm_units
        self._step_graph = graph(self._step, input_signature=[
            tf.TensorSpec(shape, tf.float32) for shape in (
                [None, c.n_mels], [c.n_prenet_layers, None, c.prenet_units], [None, dec], [None, dec],
                [c.n_lstm_decoder, None, dec], [c.n_lstm_decoder, None, dec], [None, memory], [None, None],
                [None, None, c.attention_dim], [None, None, memory], [None, None])])
        self._run_step: runtime.Graph | None = None  # `_step_graph` on the engine in use, from the first call
        self.engine: str | None = None              # that engine's name ('litert', 'tensorflow')
        self.precision: str | None = None           # and its weights ('fp32', 'int8')

    def apart(self) -> runtime.Part | None:
        """With the decoder step on LiteRT, the encoder and postnet stay on TensorFlow."""
        return ("encoder, postnet", "tensorflow", "fp32") if self.engine == "litert" else None

    # -- checkpoint -------------------------------------------------------------------
    def weight_layout(self) -> Layout:
        """Groups, weight names and shapes exactly as tensorflow-tts saved them."""
        c = self.config
        enc_units, dec_units = c.encoder_lstm_units, c.decoder_lstm_units
        memory = 2 * enc_units
        encoder = [
            ("encoder/embeddings/character_embeddings/weight", (c.vocab_size, c.embedding_hidden_size)),
            ("encoder/embeddings/LayerNorm/gamma", (c.embedding_hidden_size,)),
            ("encoder/embeddings/LayerNorm/beta", (c.embedding_hidden_size,)),
        ]
        convs, stats = _conv_bn_layout("encoder/conv_batch_norm/", c.n_conv_encoder, c.encoder_conv_kernel_sizes,
                                       c.embedding_hidden_size, c.encoder_conv_filters)
        encoder += convs
        channels = c.encoder_conv_filters
        for direction in ("forward", "backward"):
            p = f"encoder/bilstm/{direction}_lstm/"
            encoder += [(p + "kernel", (channels, 4 * enc_units)),
                        (p + "recurrent_kernel", (enc_units, 4 * enc_units)),
                        (p + "bias", (4 * enc_units,))]
        encoder += stats

        decoder = []
        channels = c.n_mels
        for i in range(c.n_prenet_layers):
            decoder += [(f"decoder_cell/prenet/dense_._{i}/kernel", (channels, c.prenet_units)),
                        (f"decoder_cell/prenet/dense_._{i}/bias", (c.prenet_units,))]
            channels = c.prenet_units
        decoder += [("decoder_cell/attention_lstm_cell/kernel", (c.prenet_units + memory, 4 * dec_units)),
                    ("decoder_cell/attention_lstm_cell/recurrent_kernel", (dec_units, 4 * dec_units)),
                    ("decoder_cell/attention_lstm_cell/bias", (4 * dec_units,))]
        channels = dec_units + memory
        for i in range(c.n_lstm_decoder):
            p = f"decoder_cell/decoder_lstms/lstm_cell_._{i}/"
            decoder += [(p + "kernel", (channels, 4 * dec_units)),
                        (p + "recurrent_kernel", (dec_units, 4 * dec_units)),
                        (p + "bias", (4 * dec_units,))]
            channels = dec_units
        frames = c.n_mels * c.reduction_factor
        decoder += [("decoder_cell/query_layer/kernel", (dec_units, c.attention_dim)),
                    ("LocationSensitiveAttention/memory_layer/kernel", (memory, c.attention_dim)),
                    ("decoder_cell/location_conv/kernel", (c.attention_kernel, 1, c.attention_filters)),
                    ("decoder_cell/location_layer/kernel", (c.attention_filters, c.attention_dim)),
                    ("decoder_cell/scores_attention/kernel", (c.attention_dim, 1)),
                    ("decoder_cell/scores_attention/bias", (1,)),
                    ("decoder_cell/frame_projection/kernel", (dec_units + memory, frames)),
                    ("decoder_cell/frame_projection/bias", (frames,)),
                    ("decoder_cell/stop_projection/kernel", (dec_units + frames, c.reduction_factor)),
                    ("decoder_cell/stop_projection/bias", (c.reduction_factor,))]

        postnet, stats = _conv_bn_layout("post_net/", c.n_conv_postnet, c.postnet_conv_kernel_sizes,
                                         c.n_mels, c.postnet_conv_filters)
        projection = [("residual_projection/kernel", (c.postnet_conv_filters, c.n_mels)),
                      ("residual_projection/bias", (c.n_mels,))]
        return [("encoder", encoder), ("decoder_cell", decoder),
                ("post_net", postnet + stats), ("residual_projection", projection)]

    def set_weights(self, arrays: dict[str, np.ndarray]) -> None:
        """Take checkpoint arrays (names of `weight_layout`) and prepare the fused ones."""
        w = {name: np.asarray(arrays[name], np.float32) for _, group in self.weight_layout()
             for name, _ in group}
        # Fuse what the step loop would otherwise do in several ops: LSTM input and
        # recurrent kernels into one matmul, location conv + location layer into one conv.
        for cell in ["decoder_cell/attention_lstm_cell/"] + [
                f"decoder_cell/decoder_lstms/lstm_cell_._{i}/" for i in range(self.config.n_lstm_decoder)]:
            w[cell + "fused"] = np.concatenate([w.pop(cell + "kernel"), w.pop(cell + "recurrent_kernel")])
        w["decoder_cell/location/fused"] = np.einsum(
            "kif,fa->kia", w.pop("decoder_cell/location_conv/kernel"),
            w.pop("decoder_cell/location_layer/kernel"))
        self._w = {name: tf.Variable(value, trainable=False, name=name.replace("/", "_"))
                   for name, value in w.items()}
        self._run_step = None

    # -- inference --------------------------------------------------------------------
    def default_max_steps(self, length: int) -> int:
        """Decoder-step cap for an input of `length` symbols."""
        frames = min(MAX_FRAMES, max(MIN_FRAMES, FRAMES_PER_SYMBOL * length))
        return -(-frames // self.config.reduction_factor)

    def infer(self, ids, lengths=None, max_steps: int | None = None,
              seed: int | None = None) -> Tacotron2Output:
        """Decode ids: (T,), (B, T) padded with `lengths`, or a list of sequences."""
        ids, lengths = self.checked_batch(ids, lengths)
        if max_steps is None:
            caps = np.array([self.default_max_steps(int(n)) for n in lengths], np.int32)
        else:
            if max_steps < 1:  # as SpeechOptions refuses it
                raise OptionError(f"max_steps {max_steps} is out of range: choose 1 or more",
                                  reason="max_steps", value=max_steps)
            caps = np.full(len(lengths), max_steps, np.int32)
        if self._run_step is None:
            self._run_step, self.engine, self.precision = runtime.runner(self._step_graph, self._w,
                                                                         "tacotron2-step", self)
        if self.engine == "litert":
            return self._decode_stepwise(ids, lengths, caps, np.random.default_rng(seed))
        seed_pair = np.random.default_rng(seed).integers(0, 2**31 - 1, size=2)
        mel_before, mel, stop, alignment, frames = self._decode(
            tf.constant(ids), tf.constant(lengths), tf.constant(caps), tf.constant(seed_pair, tf.int64))
        return Tacotron2Output(mel_before.numpy(), mel.numpy(), stop.numpy(),
                               alignment.numpy(), frames.numpy())

    def _decode_stepwise(self, ids, lengths, caps, rng, teacher=None) -> Tacotron2Output:
        """`_decode_graph`'s loop in Python around the exported step: the same stops, masks and
        outputs (the prenet's dropout drawn by `rng`, so a seed gives other draws than on
        TensorFlow; the reference models' configs, and the fixtures, have it off).
        `teacher` (B, steps, n_mels x r): the frames each step is fed instead of its own last
        ones (teacher forcing), so that int8 weights are judged step by step against fp32's."""
        c, r = self.config, self.config.reduction_factor
        values, keys = (t.numpy() for t in self._memory_graph(tf.constant(ids), tf.constant(lengths)))
        batch, time = ids.shape
        score_mask = (np.arange(time)[None] < lengths[:, None]).astype(np.float32)
        rate = float(c.prenet_dropout_rate)
        dec = np.zeros((batch, c.decoder_lstm_units), np.float32)
        frame, context = np.zeros((batch, c.n_mels), np.float32), np.zeros((batch, 2 * c.encoder_lstm_units), np.float32)
        att_h, att_c = dec, dec
        dec_h = dec_c = np.zeros((c.n_lstm_decoder, batch, c.decoder_lstm_units), np.float32)
        cumulative = np.zeros((batch, time), np.float32)
        finished, steps = np.zeros(batch, bool), np.zeros(batch, np.int32)
        out_frames, out_stops, out_align = [], [], []
        keep = np.ones((c.n_prenet_layers, batch, c.prenet_units), np.float32)
        for t in range(int(caps.max())):
            if rate > 0:
                keep = (rng.random(keep.shape) >= rate).astype(np.float32) / (1.0 - rate)
            frames, stops, alignment, att_h, att_c, dec_h, dec_c, context, cumulative = self._run_step(
                frame, keep, att_h, att_c, dec_h, dec_c, context, cumulative, keys, values, score_mask)
            steps = np.where(finished, steps, t + 1).astype(np.int32)
            finished = finished | (1 / (1 + np.exp(-stops)) >= 0.5).all(axis=1) | (t + 1 >= caps)
            out_frames.append(frames), out_stops.append(stops), out_align.append(alignment)
            frame = frames[:, -c.n_mels:] if teacher is None else teacher[:, t, -c.n_mels:]
            if finished.all():
                break
        total, frame_lengths = len(out_frames) * r, steps * r
        out_mask = (np.arange(total)[None] < frame_lengths[:, None]).astype(np.float32)
        mel_before = np.stack(out_frames, 1).reshape(batch, total, c.n_mels) * out_mask[:, :, None]
        stop = np.stack(out_stops, 1).reshape(batch, total) * out_mask
        alignment = np.stack(out_align, 2) * (np.arange(len(out_align))[None] < steps[:, None])[:, None, :]
        mel = self._postnet_graph(tf.constant(mel_before), tf.constant(frame_lengths)).numpy()
        return Tacotron2Output(mel_before, mel, stop, alignment.astype(np.float32), frame_lengths)

    def to_mel(self, ids: list[list[int]], options: SpeechOptions) -> MelOutput:
        """The voice layer's entry: a batch decoded together, each mel trimmed to its own
        stop, with its attention over its own symbols; `speed` stretches the mel in time
        (the alignment keeps the decoder's steps)."""
        out = self.infer(ids, max_steps=options.max_steps, seed=options.seed)
        steps = out.lengths // self.config.reduction_factor
        return MelOutput(
            mels=[stretch(mel[:n], options.speed) for mel, n in zip(out.mel, out.lengths)],
            alignments=[alignment[:len(item), :k] for alignment, item, k in zip(out.alignment, ids, steps)])

    def _encode(self, ids, mask):
        c, w = self.config, self._w
        x = tf.gather(w["encoder/embeddings/character_embeddings/weight"], ids)
        x = layer_norm(x, w["encoder/embeddings/LayerNorm/gamma"], w["encoder/embeddings/LayerNorm/beta"],
                       c.layer_norm_eps)
        act = activation(c.encoder_conv_activation)
        for i in range(c.n_conv_encoder):
            x = act(_conv_bn(x, w, f"encoder/conv_batch_norm/{i}/", mask))
        return x

    def _bilstm(self, x, lengths):
        w = self._w
        forward = _lstm_sequence(x, *(w["encoder/bilstm/forward_lstm/" + n]
                                      for n in ("kernel", "recurrent_kernel", "bias")))
        # The backward pass starts at each item's own last symbol, not at the padding.
        reversed_x = tf.reverse_sequence(x, lengths, seq_axis=1, batch_axis=0)
        backward = _lstm_sequence(reversed_x, *(w["encoder/bilstm/backward_lstm/" + n]
                                                for n in ("kernel", "recurrent_kernel", "bias")))
        backward = tf.reverse_sequence(backward, lengths, seq_axis=1, batch_axis=0)
        return tf.concat([forward, backward], axis=-1)

    def _memory(self, ids, lengths):
        """The encoder's output (values) and the attention's keys over it, zero past each item."""
        time = tf.shape(ids)[1]
        in_mask = tf.sequence_mask(lengths, time, dtype=tf.float32)[:, :, None]
        values = self._bilstm(self._encode(ids, in_mask), lengths) * in_mask
        keys = tf.einsum("btc,ca->bta", values, self._w["LocationSensitiveAttention/memory_layer/kernel"])
        return values, keys

    def _cell(self, frame, keep, att, dec, context, cumulative, keys, values, score_mask):
        """One decoder step: the previous frame through the prenet (its dropout as `keep`:
        one scaled keep-mask per layer), the attention LSTM, location-sensitive attention over
        `values`, the decoder LSTMs, then r frames and their stop logits. Returns (frames,
        stops, alignment, att, dec, context, cumulative)."""
        c, w = self.config, self._w
        prenet_act = activation(c.prenet_activation)
        x = frame
        for i in range(c.n_prenet_layers):
            p = f"decoder_cell/prenet/dense_._{i}/"
            x = prenet_act(tf.matmul(x, w[p + "kernel"]) + w[p + "bias"]) * keep[i]
        a = "decoder_cell/attention_lstm_cell/"
        att = _lstm_gates(tf.matmul(tf.concat([x, context, att[0]], -1), w[a + "fused"]) + w[a + "bias"], att[1])
        query = tf.matmul(att[0], w["decoder_cell/query_layer/kernel"])
        location = tf.nn.conv1d(tf.expand_dims(cumulative, -1), w["decoder_cell/location/fused"], 1, "SAME")
        energy = tf.squeeze(tf.tanh(keys + tf.expand_dims(query, 1) + location)
                            @ w["decoder_cell/scores_attention/kernel"], -1)
        energy = energy + w["decoder_cell/scores_attention/bias"]
        alignment = tf.nn.softmax(tf.where(score_mask, energy, energy.dtype.min))
        context = tf.squeeze(tf.matmul(tf.expand_dims(alignment, 1), values), 1)
        x, new_dec = tf.concat([att[0], context], -1), []
        for i, (h, cell) in enumerate(dec):
            p = f"decoder_cell/decoder_lstms/lstm_cell_._{i}/"
            h, cell = _lstm_gates(tf.matmul(tf.concat([x, h], -1), w[p + "fused"]) + w[p + "bias"], cell)
            new_dec.append((h, cell))
            x = h
        frames = tf.matmul(tf.concat([x, context], -1), w["decoder_cell/frame_projection/kernel"])
        frames = frames + w["decoder_cell/frame_projection/bias"]
        stops = tf.matmul(tf.concat([x, frames], -1), w["decoder_cell/stop_projection/kernel"])
        stops = stops + w["decoder_cell/stop_projection/bias"]
        return frames, stops, alignment, att, new_dec, context, cumulative + alignment

    def _step(self, frame, keep, att_h, att_c, dec_h, dec_c, context, cumulative, keys, values, score_mask):
        """`_cell` with flat tensors (the decoder LSTMs' states stacked), as it is exported."""
        dec = [(dec_h[i], dec_c[i]) for i in range(self.config.n_lstm_decoder)]
        frames, stops, alignment, att, dec, context, cumulative = self._cell(
            frame, [keep[i] for i in range(self.config.n_prenet_layers)], (att_h, att_c), dec, context, cumulative,
            keys, values, score_mask > 0.5)
        return (frames, stops, alignment, att[0], att[1], tf.stack([h for h, _ in dec]), tf.stack([s for _, s in dec]),
                context, cumulative)

    def _postnet(self, mel_before, frame_lengths):
        """The postnet's residual added to the decoder's frames, zero past each item's end."""
        c, w = self.config, self._w
        out_mask = tf.sequence_mask(frame_lengths, tf.shape(mel_before)[1], dtype=tf.float32)[:, :, None]
        x = mel_before
        for i in range(c.n_conv_postnet):
            x = _conv_bn(x, w, f"post_net/{i}/", out_mask)
            x = x if i + 1 == c.n_conv_postnet else tf.tanh(x)
        residual = tf.einsum("btc,cm->btm", x, w["residual_projection/kernel"]) + w["residual_projection/bias"]
        return (mel_before + residual) * out_mask

    def _decode_graph(self, ids, lengths, caps, seed):
        c = self.config
        batch, time = tf.shape(ids)[0], tf.shape(ids)[1]
        values, keys = self._memory(ids, lengths)
        score_mask = tf.sequence_mask(lengths, time)
        rate = float(c.prenet_dropout_rate)
        r = c.reduction_factor

        def step(t, frame, att, dec, context, cumulative, finished, steps, out_frames, out_stops, out_align):
            keep = []
            for i in range(c.n_prenet_layers):  # dropout stays on at inference, as the model was trained
                layer_seed = tf.stack([seed[0], seed[1] + tf.cast(t * c.n_prenet_layers + i, tf.int64)])
                kept = tf.random.stateless_uniform([batch, c.prenet_units], layer_seed) >= rate
                keep.append(tf.where(kept, 1.0 / (1.0 - rate), 0.0))
            frames, stops, alignment, att, dec, context, cumulative = self._cell(
                frame, keep, att, dec, context, cumulative, keys, values, score_mask)
            stopped = tf.reduce_all(tf.sigmoid(stops) >= 0.5, axis=1) | (t + 1 >= caps)
            steps = tf.where(finished, steps, t + 1)
            return (t + 1, frames[:, -c.n_mels:], att, dec, context, cumulative,
                    finished | stopped, steps, out_frames.write(t, frames), out_stops.write(t, stops),
                    out_align.write(t, alignment))

        def running(t, *state):
            return tf.logical_not(tf.reduce_all(state[5]))

        zeros = lambda n: tf.zeros([batch, n])
        dec_units = c.decoder_lstm_units
        state = (tf.constant(0), zeros(c.n_mels), (zeros(dec_units), zeros(dec_units)),
                 [(zeros(dec_units), zeros(dec_units)) for _ in range(c.n_lstm_decoder)],
                 zeros(2 * c.encoder_lstm_units),
                 tf.zeros([batch, time]), tf.zeros([batch], tf.bool), tf.zeros([batch], tf.int32),
                 tf.TensorArray(tf.float32, size=0, dynamic_size=True),
                 tf.TensorArray(tf.float32, size=0, dynamic_size=True),
                 tf.TensorArray(tf.float32, size=0, dynamic_size=True))
        state = tf.while_loop(running, step, state, maximum_iterations=tf.reduce_max(caps))
        steps, out_frames, out_stops, out_align = state[7], state[8], state[9], state[10]

        total = out_frames.size() * r
        frame_lengths = steps * r
        out_mask = tf.sequence_mask(frame_lengths, total, dtype=tf.float32)[:, :, None]
        mel_before = tf.reshape(tf.transpose(out_frames.stack(), [1, 0, 2]), [batch, total, c.n_mels]) * out_mask
        stop = tf.reshape(tf.transpose(out_stops.stack(), [1, 0, 2]), [batch, total])
        step_mask = tf.sequence_mask(steps, out_align.size(), dtype=tf.float32)[:, None, :]
        alignment = tf.transpose(out_align.stack(), [1, 2, 0]) * step_mask
        return mel_before, self._postnet(mel_before, frame_lengths), stop * out_mask[:, :, 0], alignment, frame_lengths
