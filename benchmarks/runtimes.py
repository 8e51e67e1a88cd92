"""CPU inference runtimes for synth's graphs, at batch 1 on 2 threads: synth's own TensorFlow
path, LiteRT (ai-edge-litert; .tflite from tf.lite.TFLiteConverter, built-in ops only: no
Select TF ops, which ai-edge-litert cannot run) and ONNX Runtime (.onnx from tf2onnx), each
with fp32 weights and with dynamic-range int8 ones (LiteRT: Optimize.DEFAULT without a
representative dataset; ONNX Runtime: quantize_dynamic, per-channel int8). Random full-size
weights:

- decoder: one Tacotron2 decoder step (tacotron2.v1: prenet with the dropout keep-masks as
  inputs, attention LSTM, location-sensitive attention, decoder LSTM, frame and stop
  projections, as `Tacotron2._decode_graph` runs it) over a 100-symbol encoder output, driven
  from a Python loop that feeds each step's state and frame back; ms/step. TensorFlow runs the
  same loop, and `Tacotron2.infer` (encoder, in-graph loop, postnet) gives synth's ms/step.
  Errors: one step from the state after `--steps` steps (all outputs), and the loop's frames.
- vocoder: Multi-band MelGAN (multiband_melgan.v1), a 200-frame mel to audio; RTF.
- generator: CycleGAN ResNet generator (64 filters, 9 blocks), one 256x256 photo; seconds and
  PSNR against TensorFlow's image over [0, 255].

Each network is exported twice: with fixed input shapes (the ones timed) and with dynamic
ones (symbols, frames, height and width left None), which are timed at the same size and run
at a second one against TensorFlow. Prints JSON per network: `tensorflow` (synth's own
path), `tensorflow_function` (the exported function run by TensorFlow: the reference for the
errors), then `litert_fp32`, `litert_int8`, `onnxruntime_fp32`, ... and their `_dynamic`
twins, with export seconds (int8 ONNX: quantize_dynamic on the fp32 file), file sizes, times,
errors, or the export's failure and why; and the packages' versions.

    pip install ai-edge-litert onnxruntime tf2onnx
    python benchmarks/runtimes.py [--steps 200] [--repeat 3] [--networks decoder,vocoder,generator]
"""
import argparse
import copy
import importlib.metadata
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import tf2onnx
from ai_edge_litert.interpreter import Interpreter
from onnxruntime.quantization import QuantType, quantize_dynamic

from synth.device import tf
from synth.image import Generator, GeneratorConfig
from synth.speech import MultiBandMelGAN, Tacotron2
from synth.speech.config import MultiBandMelGANConfig, Tacotron2Config, build
from tts import MB_MELGAN_V1, SAMPLE_RATE, TACOTRON2_V1, best, random_weights

THREADS = 2
OPSET = 17
SYMBOLS, CHECK_SYMBOLS = 100, 37          # decoder: timed, and the dynamic export's second size
FRAMES, CHECK_FRAMES = 200, 57            # vocoder
SIDE, CHECK_SIZE = 256, (128, 192)        # generator
STATES = ("att_h", "att_c", "dec_h", "dec_c", "context", "cumulative")


def spec(name, shape):
    return tf.TensorSpec(shape, tf.float32, name=name)


# -- runtimes: each runs feeds {input name: array} -> {output name: array} -------------------
class TensorFlowRun:
    def __init__(self, function, signature):
        self.concrete = function.get_concrete_function(*signature)

    def __call__(self, feeds):
        return {name: value.numpy() for name, value in self.concrete(**feeds).items()}


class LiteRTRun:
    def __init__(self, path):
        self.interpreter = Interpreter(model_path=str(path), num_threads=THREADS)
        # names -> tensor indices; the signature runner itself is not kept, as it holds the
        # interpreter, which then refuses to allocate its tensors
        runner = self.interpreter.get_signature_runner()
        self.inputs = {name: d["index"] for name, d in runner.get_input_details().items()}
        self.outputs = {name: d["index"] for name, d in runner.get_output_details().items()}
        del runner
        self.shapes = None  # tensors are sized on the first call, to its inputs

    def __call__(self, feeds):
        shapes = {name: value.shape for name, value in feeds.items()}
        if shapes != self.shapes:  # a dynamic export takes a new size by resizing its inputs
            for name, shape in shapes.items():
                self.interpreter.resize_tensor_input(self.inputs[name], shape, strict=True)
            self.interpreter.allocate_tensors()
            self.shapes = shapes
        for name, value in feeds.items():
            self.interpreter.set_tensor(self.inputs[name], value)
        self.interpreter.invoke()
        return {name: self.interpreter.get_tensor(index) for name, index in self.outputs.items()}


class OnnxRun:
    def __init__(self, path, output_names):
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = THREADS, 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        # tf2onnx keeps the function's outputs in tf.nest order: a dict's keys sorted
        self.names = dict(zip((o.name for o in self.session.get_outputs()), sorted(output_names)))

    def __call__(self, feeds):
        return dict(zip(self.names.values(), self.session.run(list(self.names), feeds)))


# -- exports ----------------------------------------------------------------------------------
def export_litert(function, signature, path, int8):
    module = tf.Module()
    module.function = function  # a trackable owner gives the .tflite its named signature (when,
                                # as here, the weights are constants, not variables)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function(*signature)], module)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if int8:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    path.write_bytes(converter.convert())


def export_onnx(function, signature, path, int8):
    if int8:  # from the fp32 export of the same shapes, made just before
        quantize_dynamic(path.with_name(path.name.replace("int8", "fp32")), path,
                         per_channel=True, weight_type=QuantType.QInt8)
    else:
        tf2onnx.convert.from_function(function, input_signature=signature, opset=OPSET, output_path=str(path))


def short(error):
    """The lines of a converter's error that say what failed, not its whole trace."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    telling = [line for line in lines if "error" in line.lower() or "not supported" in line.lower()]
    return f"{type(error).__name__}: " + " | ".join((telling or lines)[:4])[:600]


def max_abs(a, b):
    return float(max(np.abs(a[name] - b[name]).max() for name in a))


def g3(x):
    return float(f"{x:.3g}")


def snr(audio, reference):
    return float(10 * np.log10(np.sum(reference ** 2) / np.sum((audio - reference) ** 2)))


def psnr(image, reference):
    mse = np.mean((np.clip(image, -1, 1) * 127.5 - np.clip(reference, -1, 1) * 127.5) ** 2)
    return float(10 * np.log10(255 ** 2 / mse)) if mse else float("inf")


# -- networks: each has a name, its output names, function() (the graph to export, weights as
# constants), signature(dynamic), tensorflow(repeat) (synth's own path), measure(run, repeat,
# reference) (times a runtime; -> figures, results to compare) and check(run, reference_run)
# (the dynamic export at the second size against TensorFlow) ------------------------------------
class Decoder:
    name = "decoder"
    outputs = tuple("new_" + name for name in STATES) + ("frames", "stops", "alignment")

    def __init__(self, steps, rng):
        self.taco = Tacotron2(build(Tacotron2Config, TACOTRON2_V1, "tacotron2.v1"))
        self.taco.set_weights(random_weights(self.taco.weight_layout(), rng))
        self.ids = rng.integers(1, self.taco.config.vocab_size, (1, SYMBOLS))
        self.memory = self.encode(self.ids)
        self.check_memory = self.encode(rng.integers(1, self.taco.config.vocab_size, (1, CHECK_SYMBOLS)))
        rate = self.taco.config.prenet_dropout_rate
        units = self.taco.config.prenet_units
        self.keeps = [{f"keep_{i}": (rng.random((1, units)) >= rate).astype(np.float32) for i in range(2)}
                      for _ in range(steps + 1)]
        self.steps = steps

    def encode(self, ids):
        """keys, values and score mask of the encoder output, as `_decode_graph` makes them."""
        w = self.taco._w
        lengths = tf.constant([ids.shape[1]])
        mask = tf.ones([1, ids.shape[1], 1])
        values = self.taco._bilstm(self.taco._encode(tf.constant(ids, tf.int32), mask), lengths)
        keys = tf.einsum("btc,ca->bta", values, w["LocationSensitiveAttention/memory_layer/kernel"])
        return dict(keys=keys.numpy(), values=values.numpy(), score_mask=np.ones((1, ids.shape[1]), np.float32))

    def function(self):
        c = self.taco.config
        w = {name: v.numpy() for name, v in self.taco._w.items()}  # arrays: constants of the traced graph
        scale = 1 / (1 - c.prenet_dropout_rate)
        att, dec = "decoder_cell/attention_lstm_cell/", "decoder_cell/decoder_lstms/lstm_cell_._0/"

        def lstm(x, h, cell, name):
            i, f, g, o = tf.split(tf.matmul(tf.concat([x, h], -1), w[name + "fused"]) + w[name + "bias"], 4, -1)
            cell = tf.sigmoid(f) * cell + tf.sigmoid(i) * tf.tanh(g)
            return tf.sigmoid(o) * tf.tanh(cell), cell

        def step(frame, att_h, att_c, dec_h, dec_c, context, cumulative, keys, values, score_mask, keep_0, keep_1):
            x = frame
            for i, keep in enumerate((keep_0, keep_1)):
                p = f"decoder_cell/prenet/dense_._{i}/"
                x = tf.nn.relu(tf.matmul(x, w[p + "kernel"]) + w[p + "bias"]) * keep * scale
            att_h, att_c = lstm(tf.concat([x, context], -1), att_h, att_c, att)
            query = tf.matmul(att_h, w["decoder_cell/query_layer/kernel"])
            location = tf.nn.conv1d(cumulative[:, :, None], w["decoder_cell/location/fused"], 1, "SAME")
            energy = tf.squeeze(tf.tanh(keys + query[:, None, :] + location)
                                @ w["decoder_cell/scores_attention/kernel"], -1)
            energy = energy + w["decoder_cell/scores_attention/bias"]
            alignment = tf.nn.softmax(tf.where(score_mask > 0, energy, energy.dtype.min))
            context = tf.squeeze(tf.matmul(alignment[:, None, :], values), 1)
            dec_h, dec_c = lstm(tf.concat([att_h, context], -1), dec_h, dec_c, dec)
            frames = tf.matmul(tf.concat([dec_h, context], -1), w["decoder_cell/frame_projection/kernel"])
            frames = frames + w["decoder_cell/frame_projection/bias"]
            stops = tf.matmul(tf.concat([dec_h, frames], -1), w["decoder_cell/stop_projection/kernel"])
            stops = stops + w["decoder_cell/stop_projection/bias"]
            return dict(new_att_h=att_h, new_att_c=att_c, new_dec_h=dec_h, new_dec_c=dec_c, new_context=context,
                        new_cumulative=cumulative + alignment, frames=frames, stops=stops, alignment=alignment)

        return tf.function(step)

    def signature(self, dynamic):
        c, t = self.taco.config, None if dynamic else SYMBOLS
        units, memory = c.decoder_lstm_units, 2 * c.encoder_lstm_units
        return [spec("frame", [1, c.n_mels])] + [spec(n, [1, units]) for n in ("att_h", "att_c", "dec_h", "dec_c")] + [
            spec("context", [1, memory]), spec("cumulative", [1, t]), spec("keys", [1, t, c.attention_dim]),
            spec("values", [1, t, memory]), spec("score_mask", [1, t]),
            spec("keep_0", [1, c.prenet_units]), spec("keep_1", [1, c.prenet_units])]

    def decode(self, run, memory, keeps, state=None):
        """Steps from `state` (zeros: the first step) feeding each one's state and frame back;
        returns the frames (steps, n_mels), the last step's outputs and the state it leaves."""
        c = self.taco.config
        if state is None:
            units, symbols = c.decoder_lstm_units, memory["keys"].shape[1]
            sizes = dict(att_h=units, att_c=units, dec_h=units, dec_c=units, context=2 * c.encoder_lstm_units,
                         cumulative=symbols, frame=c.n_mels)
            state = {name: np.zeros((1, size), np.float32) for name, size in sizes.items()}
        frames = []
        for keep in keeps:
            out = run({**state, **memory, **keep})
            state = {name: out["new_" + name] for name in STATES} | {"frame": out["frames"][:, -c.n_mels:]}
            frames.append(out["frames"][0])
        return np.array(frames), out, state

    def tensorflow(self, repeat):
        self.taco.infer(self.ids, max_steps=5, seed=0)  # trace once
        seconds, _ = best(lambda: self.taco.infer(self.ids, max_steps=self.steps, seed=0), repeat)
        return dict(ms_per_step=round(1000 * seconds / self.steps, 3))

    def measure(self, run, repeat, reference=None):
        self.decode(run, self.memory, self.keeps[:20])  # warm up
        seconds, (frames, _, state) = best(lambda: self.decode(run, self.memory, self.keeps[:-1]), repeat)
        if reference is None:  # TensorFlow's run: its state is where every runtime takes one more step
            self.reference_state = state
        _, step, _ = self.decode(run, self.memory, self.keeps[-1:], self.reference_state)
        figures = dict(ms_per_step=round(1000 * seconds / self.steps, 3))
        if reference is not None:
            reference_frames, reference_step = reference
            figures.update(step_max_abs=g3(max_abs(step, reference_step)),
                           frames_max_abs=g3(np.abs(frames - reference_frames).max()))
        return figures, (frames, step)

    def check(self, run, reference_run):
        keeps = self.keeps[:20]
        frames, _, _ = self.decode(run, self.check_memory, keeps)
        reference_frames, _, _ = self.decode(reference_run, self.check_memory, keeps)
        return dict(symbols=CHECK_SYMBOLS, steps=len(keeps), frames_max_abs=g3(np.abs(frames - reference_frames).max()))


class Vocoder:
    name = "vocoder"
    outputs = ("audio",)

    def __init__(self, rng):
        self.model = MultiBandMelGAN(MultiBandMelGANConfig(**MB_MELGAN_V1))
        self.model.set_weights(random_weights(self.model.weight_layout(), rng))
        self.mel = rng.normal(0, 1, (1, FRAMES, 80)).astype(np.float32)
        self.check_mel = rng.normal(0, 1, (1, CHECK_FRAMES, 80)).astype(np.float32)
        self.audio_s = FRAMES * self.model.hop_size / SAMPLE_RATE

    def function(self):
        frozen = copy.copy(self.model)
        frozen._w = {name: v.numpy() for name, v in self.model._w.items()}  # constants of the traced graph
        frozen._synthesis, frozen._upsample = self.model._synthesis.numpy(), self.model._upsample.numpy()
        return tf.function(lambda mel: {"audio": frozen._graph(mel)})

    def signature(self, dynamic):
        return [spec("mel", [1, None if dynamic else FRAMES, 80])]

    def tensorflow(self, repeat):
        self.model.infer(self.mel)
        seconds, _ = best(lambda: self.model.infer(self.mel), repeat)
        return dict(seconds=round(seconds, 4), rtf=round(seconds / self.audio_s, 4))

    def measure(self, run, repeat, reference=None):
        run({"mel": self.mel})
        seconds, out = best(lambda: run({"mel": self.mel}), repeat)
        figures = dict(seconds=round(seconds, 4), rtf=round(seconds / self.audio_s, 4))
        if reference is not None:
            figures.update(max_abs=g3(max_abs(out, reference)), snr_db=round(snr(out["audio"], reference["audio"]), 1))
        return figures, out

    def check(self, run, reference_run):
        feeds = {"mel": self.check_mel}
        out, reference = run(feeds), reference_run(feeds)
        return dict(frames=CHECK_FRAMES, max_abs=g3(max_abs(out, reference)),
                    snr_db=round(snr(out["audio"], reference["audio"]), 1))


class Photo:
    name = "generator"
    outputs = ("styled",)

    def __init__(self, rng):
        self.model = Generator(GeneratorConfig())
        self.model.set_weights({name: rng.normal(0, 0.05, shape).astype(np.float32)
                                for name, shape in self.model.weight_layout()})
        self.image = rng.uniform(-1, 1, (1, SIDE, SIDE, 3)).astype(np.float32)
        self.check_image = rng.uniform(-1, 1, (1, *CHECK_SIZE, 3)).astype(np.float32)

    def function(self):
        weights = {name: v.numpy() for name, v in self.model.variables.items()}  # constants of the traced graph
        return tf.function(lambda image: {"styled": self.model.forward(weights, image)})

    def signature(self, dynamic):
        side = None if dynamic else SIDE
        return [spec("image", [1, side, side, 3])]

    def tensorflow(self, repeat):
        self.model.infer(self.image)
        seconds, _ = best(lambda: self.model.infer(self.image), repeat)
        return dict(seconds=round(seconds, 3))

    def measure(self, run, repeat, reference=None):
        run({"image": self.image})
        seconds, out = best(lambda: run({"image": self.image}), repeat)
        figures = dict(seconds=round(seconds, 3))
        if reference is not None:
            figures.update(max_abs=g3(max_abs(out, reference)),
                           psnr_db=round(psnr(out["styled"], reference["styled"]), 2))
        return figures, out

    def check(self, run, reference_run):
        feeds = {"image": self.check_image}
        out, reference = run(feeds), reference_run(feeds)
        return dict(size=list(CHECK_SIZE), max_abs=g3(max_abs(out, reference)),
                    psnr_db=round(psnr(out["styled"], reference["styled"]), 2))


# -- the run ------------------------------------------------------------------------------------
def runtimes(network, folder, repeat):
    """Every export of `network`, timed and compared with TensorFlow running the same function."""
    function = network.function()
    tensorflow_run = TensorFlowRun(function, network.signature(dynamic=False))
    results = {"tensorflow": network.tensorflow(repeat)}
    results["tensorflow_function"], reference = network.measure(tensorflow_run, repeat)
    dynamic_reference = TensorFlowRun(function, network.signature(dynamic=True))
    for runtime, export, suffix in (("litert", export_litert, "tflite"), ("onnxruntime", export_onnx, "onnx")):
        for dynamic in (False, True):
            for weights in ("fp32", "int8"):
                path = folder / f"{network.name}_{'dynamic' if dynamic else 'fixed'}_{weights}.{suffix}"
                key = f"{runtime}_{weights}" + ("_dynamic" if dynamic else "")
                start = time.perf_counter()
                try:
                    export(function, network.signature(dynamic), path, weights == "int8")
                except Exception as error:  # an unsupported op: what failed is the finding
                    results[key] = dict(export_error=short(error))
                    continue
                figures = dict(export_s=round(time.perf_counter() - start, 1), mb=round(path.stat().st_size / 2**20, 1))
                run = LiteRTRun(path) if runtime == "litert" else OnnxRun(path, network.outputs)
                try:
                    figures.update(network.measure(run, repeat, reference)[0])
                    if dynamic:
                        figures["second_size"] = network.check(run, dynamic_reference)
                except Exception as error:
                    figures["run_error"] = short(error)
                results[key] = figures
                del run
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=200, help="decoder steps timed")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--networks", default="decoder,vocoder,generator")
    parser.add_argument("--keep", type=Path, help="write the exported files here instead of a temporary folder")
    args = parser.parse_args()
    os.environ["SYNTH_ENGINE"] = "tensorflow"  # synth's own path is the baseline, whatever engine it would pick
    rng = np.random.default_rng(0)
    makers = dict(decoder=lambda: Decoder(args.steps, rng), vocoder=lambda: Vocoder(rng), generator=lambda: Photo(rng))
    results = {"versions": {name: importlib.metadata.version(name) for name in
                            ("tensorflow", "ai-edge-litert", "onnxruntime", "tf2onnx", "onnx")}}
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        for name in args.networks.split(","):
            results[name] = runtimes(makers[name](), folder, args.repeat)
            print(json.dumps({name: results[name]}), flush=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
