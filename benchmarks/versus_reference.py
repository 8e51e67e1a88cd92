"""synth beside the legacy stack (tensorflow-tts 1.8 on TensorFlow 2.15), in one run on one
machine, against the issue's targets: ratios only mean something when both sides were timed
under the same load, so this runs tools/reference_speed.py in the reference venv
(tools/reference_venv.sh) as a subprocess, then synth, on the same inputs, and prints one
table (and the JSON of every figure).

Full-size configs, random weights, both processes pinned to `--threads` cores (2: the CPU
the targets are set on); every figure is the best of `--repeat` runs after a warm-up run
(which traces, and on LiteRT exports), and that over `--rounds` rounds of the reference then
synth. On a shared virtual machine the same figure drifts by a third within minutes (the
memory-bound decoder most: reading the same weights took 0.85 to 2.1 ms within a minute):
alternating the two sides lets each meet the quiet spells, and the table gives each round's
ratio beside the bests'.

- decoder: Tacotron2 (tacotron2.v1) on a 100-symbol input, stop disabled, `--steps` steps;
  ms/step of the whole inference (encoder, decoder loop, postnet). synth runs
  `Tacotron2.infer` on LiteRT fp32 (target <= 0.6x the reference) and int8 (<= 0.2x), and on
  TensorFlow for information.
- vocoder: Multi-band MelGAN (multiband_melgan.v1), a 200-frame mel; RTF (<= 0.5x). synth
  on its default engine (runtime.CPU_DEFAULTS, or SYNTH_ENGINE / SYNTH_PRECISION), named in
  the table.
- generator: CycleGAN ResNet generator (64 filters, 9 blocks), one 256x256 image; seconds
  (<= 0.6x), synth on its default engine.
- fastspeech2: FastSpeech2 (fastspeech2.v1) text to mel, batch 1, the 100 symbols, durations
  pinned near 6 frames a symbol (LJSpeech's pace); RTF over the frames made (synth <= 0.01).
- sentence: a whole English sentence, text to audio: synth's `Voice.speak` (LJSpeech
  processor, Tacotron2 + MB-MelGAN on their default engines), the reference's Tacotron2 then
  MB-MelGAN on the same ids; random weights never stop, so both decode 6 frames per symbol
  (SENTENCE's 148 ids: 888 steps, 10.3 s of audio); RTF (synth <= 0.08).

Two floors, for information, with `decoder` and `vocoder`: how fast this machine could run
each fp32 network at best, measured in the same rounds, so that a target below its floor
shows as such.
- decoder floor: ms/step of reading the decoder step's fp32 weights once (each of its weight
  matrices times one vector, on LiteRT): the memory traffic a step cannot avoid.
- vocoder floor: the RTF of the vocoder's float operations (TensorFlow's profiler, on its
  graph for the 200 frames) done at the speed of LiteRT's fp32 matrix product (2048x1024 by
  1024x1024), the fastest its convolutions can be.

    python benchmarks/versus_reference.py [--steps 400] [--repeat 3] [--rounds 3] [--threads 2]
        [--only decoder,vocoder,generator,fastspeech2,sentence] [--reference-venv /tmp/synth-reference-venv]
"""
import argparse
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from synth import runtime
from synth.device import graph, tf
from synth.image import Generator, GeneratorConfig
from synth.speech import FastSpeech2, MultiBandMelGAN, SpeechOptions, Tacotron2, TextProcessor, Voice
from synth.speech.config import FastSpeech2Config, MultiBandMelGANConfig, Tacotron2Config, build
import tts
from tts import FASTSPEECH2_V1, MB_MELGAN_V1, PROCESSOR, SAMPLE_RATE, TACOTRON2_V1, random_weights

MEASURES = ("decoder", "vocoder", "generator", "fastspeech2", "sentence")
REFERENCE = Path(__file__).resolve().parent.parent / "tools" / "reference_speed.py"
SYMBOLS, FRAMES, SIDE = 100, 200, 256
HOP = MultiBandMelGANConfig(**MB_MELGAN_V1).hop_size  # audio samples per mel frame
SENTENCE = ("Printing, in the only sense with which we are at present concerned, differs from most "
            "if not all the arts and crafts represented in the Exhibition.")  # LJSpeech's first line
FRAMES_PER_SYMBOL = 6  # the sentence's decoder steps per id: LJSpeech's pace, as FastSpeech2's pinned durations
# the targets: a ratio to the reference, or synth's own figure
TARGETS = {"decoder_fp32": ("ratio", 0.6), "decoder_int8": ("ratio", 0.2), "vocoder": ("ratio", 0.5),
           "generator": ("ratio", 0.6), "fastspeech2": ("value", 0.01), "sentence": ("value", 0.08)}


def best(fn, repeat):
    """Seconds of the fastest of `repeat` calls after a warm-up call, and the last result
    (as tools/reference_speed.py times the reference, in its own venv)."""
    fn()
    return tts.best(fn, repeat)


# -- the models: each with its own seeded weights, so that every instance of one is the same
# network (and a LiteRT export made for one serves the next) ---------------------------------
def tacotron2():
    model = Tacotron2(build(Tacotron2Config, TACOTRON2_V1, "tacotron2.v1"))
    model.set_weights(random_weights(model.weight_layout(), np.random.default_rng(1)))
    return model


def vocoder():
    model = MultiBandMelGAN(MultiBandMelGANConfig(**MB_MELGAN_V1), sample_rate=SAMPLE_RATE)
    model.set_weights(random_weights(model.weight_layout(), np.random.default_rng(2)))
    return model


def generator():
    model = Generator(GeneratorConfig())
    rng = np.random.default_rng(3)
    model.set_weights({name: rng.normal(0, 0.05, shape).astype(np.float32) for name, shape in model.weight_layout()})
    return model


def fastspeech2():
    model = FastSpeech2(build(FastSpeech2Config, FASTSPEECH2_V1, "fastspeech2.v1"))
    model.set_weights(random_weights(model.weight_layout(), np.random.default_rng(4)))
    return model


def voice():
    return Voice(tacotron2(), vocoder(), TextProcessor.from_file(PROCESSOR))


# -- synth's measurements ----------------------------------------------------------------------
def ran_on(model):
    """The engine and precision a model ran with ('litert int8', 'tensorflow fp32')."""
    return f"{model.engine} {model.precision}"


def decoder_speed(inputs, args, engine, precision=None):
    """Tacotron2.infer on `engine` at `precision`, set before its first call (which exports)."""
    model = tacotron2()
    model.engine, model.precision = engine, precision
    seconds, out = best(lambda: model.infer(inputs["ids"], max_steps=args.steps, seed=0), args.repeat)
    steps = int(out.lengths[0])
    return dict(engine=ran_on(model), steps=steps, seconds=round(seconds, 4),
                ms_per_step=round(1000 * seconds / steps, 3))


def vocoder_speed(inputs, args):
    model, mel = vocoder(), inputs["mel"]
    seconds, _ = best(lambda: model.infer(mel), args.repeat)
    audio_s = mel.shape[1] * HOP / SAMPLE_RATE
    return dict(engine=ran_on(model), frames=mel.shape[1], seconds=round(seconds, 4),
                rtf=round(seconds / audio_s, 4))


def generator_speed(inputs, args):
    model = generator()
    seconds, _ = best(lambda: model.infer(inputs["image"]), args.repeat)
    return dict(engine=ran_on(model), side=inputs["image"].shape[1], seconds=round(seconds, 3))


def fastspeech2_speed(inputs, args):
    """Dropout on, as in real use; the RTF counts the frames it chose to make."""
    model = fastspeech2()
    seconds, out = best(lambda: model.infer(inputs["ids"], seed=0), args.repeat)
    frames = int(out.lengths[0])
    audio_s = frames * HOP / SAMPLE_RATE
    return dict(engine=ran_on(model), frames=frames, seconds=round(seconds, 4),
                rtf=round(seconds / audio_s, 4))


def sentence_steps(inputs):
    """The decoder steps of SENTENCE, on both sides: its stop never fires with random weights."""
    return FRAMES_PER_SYMBOL * inputs["sentence_ids"].shape[1]


def sentence_speed(inputs, speaker, args):
    """Voice.speak: the sentence split, read, decoded, vocoded and joined, as the app does."""
    options = SpeechOptions(seed=0, max_steps=sentence_steps(inputs))
    seconds, speech = best(lambda: speaker.speak(SENTENCE, options), args.repeat)
    taco, mel_to_audio = speaker.text_to_mel, speaker.vocoder
    return dict(engine=f"{ran_on(taco)} + {ran_on(mel_to_audio)}", steps=len(speech.audio) // HOP,
                audio_s=round(speech.duration, 2), seconds=round(seconds, 3), rtf=round(seconds / speech.duration, 4))


def decoder_floor(args):
    """Each of the decoder step's weight matrices times one vector, `args.steps` times."""
    matrices = {name: weight for name, weight in tacotron2()._w.items()
                if name.startswith("decoder_cell/") and len(weight.shape) == 2}
    names = sorted(matrices)
    reads = graph(lambda *vectors: [tf.matmul(v, matrices[n]) for v, n in zip(vectors, names)],
                  input_signature=[tf.TensorSpec([1, matrices[n].shape[0]], tf.float32) for n in names])
    run = runtime.LiteGraph(runtime.export(reads, matrices, "floor-decoder"))
    vectors = [np.ones((1, matrices[n].shape[0]), np.float32) for n in names]

    def steps():
        for _ in range(args.steps):
            run(*vectors)
    seconds, _ = best(steps, args.repeat)
    megabytes = sum(int(np.prod(w.shape)) * 4 for w in matrices.values()) / 1e6
    return dict(engine="litert fp32", megabytes=round(megabytes, 1), seconds=round(seconds, 4),
                ms_per_step=round(1000 * seconds / args.steps, 3))


def vocoder_floor(inputs, args):
    """The vocoder's float operations at LiteRT's fp32 matrix-product speed."""
    frames = inputs["mel"].shape[1]
    traced = graph(vocoder()._graph, input_signature=[tf.TensorSpec([1, frames, 80], tf.float32)])
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    flops = tf.compat.v1.profiler.profile(traced.get_concrete_function().graph, options=options).total_float_ops
    rows, size = 2048, 1024
    weight = tf.Variable(np.random.default_rng(5).normal(0, 0.05, (size, size)).astype(np.float32))
    product = graph(lambda x: tf.matmul(x, weight), input_signature=[tf.TensorSpec([rows, size], tf.float32)])
    run = runtime.LiteGraph(runtime.export(product, {"weight": weight}, "floor-gemm"))
    x = np.ones((rows, size), np.float32)
    seconds, _ = best(lambda: run(x), 10 * args.repeat)
    flop_rate = 2 * rows * size * size / seconds
    audio_s = frames * HOP / SAMPLE_RATE
    return dict(engine="litert fp32", mflop_per_frame=round(flops / frames / 1e6, 2),
                gflop_per_s=round(flop_rate / 1e9, 1), seconds=round(flops / flop_rate, 4),
                rtf=round(flops / flop_rate / audio_s, 4))


def synth_speeds(inputs, speaker, args):
    measures = dict(decoder_fp32=lambda: decoder_speed(inputs, args, "litert", "fp32"),
                    decoder_int8=lambda: decoder_speed(inputs, args, "litert", "int8"),
                    decoder_tensorflow=lambda: decoder_speed(inputs, args, "tensorflow"),
                    decoder_floor=lambda: decoder_floor(args),
                    vocoder=lambda: vocoder_speed(inputs, args),
                    vocoder_floor=lambda: vocoder_floor(inputs, args),
                    generator=lambda: generator_speed(inputs, args),
                    fastspeech2=lambda: fastspeech2_speed(inputs, args),
                    sentence=lambda: sentence_speed(inputs, speaker, args))
    speeds = {}
    for key, measure in measures.items():
        if key.split("_")[0] in args.only:
            speeds[key] = measure()
            print("synth", key, json.dumps(speeds[key]), flush=True)
    return speeds


# -- the reference ------------------------------------------------------------------------------
def reference_speeds(inputs, args):
    """tools/reference_speed.py in the reference venv, on `inputs`; its figures."""
    python = Path(args.reference_venv) / "bin" / "python"
    if not python.is_file():
        sys.exit(f"no reference venv at {args.reference_venv}: build it with tools/reference_venv.sh")
    with tempfile.TemporaryDirectory() as folder:
        np.savez(Path(folder) / "inputs.npz", **inputs)
        out = Path(folder) / "reference.json"
        command = [str(python), str(REFERENCE), str(Path(folder) / "inputs.npz"), str(out),
                   "--steps", str(args.steps), "--repeat", str(args.repeat), "--only", ",".join(args.only)]
        if "sentence_ids" in inputs:
            command += ["--sentence-steps", str(sentence_steps(inputs))]
        # its progress lines come through; TensorFlow's warnings only if it fails
        done = subprocess.run(command, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
        if done.returncode:
            sys.exit(f"the reference failed ({done.returncode}):\n{done.stderr[-3000:]}")
        return json.loads(out.read_text())


def fastest(so_far: dict, new: dict) -> dict:
    """Per figure, the measurement that took fewer seconds (what is not a measurement, as new)."""
    return {key: min(measured, so_far.get(key, measured), key=lambda m: m["seconds"]) if "seconds" in measured
            else measured for key, measured in new.items()}


# -- the table ----------------------------------------------------------------------------------
ROWS = (  # synth's measurement, the reference's, the figure compared, what it is, its unit
    ("decoder_fp32", "decoder", "ms_per_step", "Tacotron2 decoder, 100 symbols", "ms/step"),
    ("decoder_int8", "decoder", "ms_per_step", "Tacotron2 decoder, 100 symbols", "ms/step"),
    ("decoder_tensorflow", "decoder", "ms_per_step", "Tacotron2 decoder, 100 symbols", "ms/step"),
    ("decoder_floor", "decoder", "ms_per_step", "its floor: fp32 weights read once a step", "ms/step"),
    ("vocoder", "vocoder", "rtf", "MB-MelGAN, 200 frames", "RTF"),
    ("vocoder_floor", "vocoder", "rtf", "its floor: its FLOPs at fp32 GEMM speed", "RTF"),
    ("generator", "generator", "seconds", "CycleGAN ResNet 256²", "s"),
    ("fastspeech2", "fastspeech2", "rtf", "FastSpeech2 text to mel, batch 1", "RTF"),
    ("sentence", "sentence", "rtf", "English sentence, text to audio", "RTF"),
)


def rows(synth, reference, rounds):
    """One row per figure synth measured: its value, the reference's, their ratio, the target
    and whether it is met (None where there is no target), from the best of each side's
    `rounds` ((reference, synth) figures of each round); and the ratio in each round."""
    table = []
    for key, reference_key, figure, what, unit in ROWS:
        if key not in synth:
            continue
        ours, theirs = synth[key][figure], reference[reference_key][figure]
        ratio = ours / theirs
        each_round = [round(s[key][figure] / r[reference_key][figure], 2) for r, s in rounds]
        kind, limit = TARGETS.get(key, (None, None))
        passed = None if kind is None else (ratio if kind == "ratio" else ours) <= limit
        table.append(dict(key=key, figure=what, unit=unit, engine=synth[key]["engine"],
                          synth=ours, reference=theirs, ratio=round(ratio, 3), each_round=each_round,
                          target=None if kind is None else f"≤ {limit}" + ("×" if kind == "ratio" else ""),
                          passed=passed))
    return table


def markdown(table):
    lines = ["| figure | synth engine | unit | synth | reference | synth / reference | each round | target | |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in table:
        verdict = {True: "pass", False: "FAIL", None: ""}[row["passed"]]
        lines.append(f"| {row['figure']} | {row['engine']} | {row['unit']} | {row['synth']} | {row['reference']} "
                     f"| {row['ratio']}× | {' '.join(map(str, row['each_round']))} "
                     f"| {row['target'] or 'information'} | {verdict} |")
    return "\n".join(lines)


def pin(threads):
    """Both processes on the first `threads` cores: TensorFlow sizes its thread pools to the
    cores it may use when it first runs, the reference subprocess inherits them, and synth's
    LiteRT interpreters take runtime.THREADS, counted when synth was imported."""
    cores = sorted(os.sched_getaffinity(0))[:threads]
    os.sched_setaffinity(0, cores)
    runtime.THREADS = len(cores)
    return cores


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=400, help="Tacotron2 decoder steps timed")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per figure, after one warm-up")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the reference then synth; each figure its best")
    parser.add_argument("--threads", type=int, default=2, help="cores both sides may use")
    parser.add_argument("--only", default=",".join(MEASURES), type=lambda s: s.split(","),
                        help="measurements, comma-separated: " + ",".join(MEASURES))
    parser.add_argument("--reference-venv", default="/tmp/synth-reference-venv")
    args = parser.parse_args()
    unknown = set(args.only) - set(MEASURES)
    if unknown:
        parser.error(f"unknown measurements {sorted(unknown)}: choose from {','.join(MEASURES)}")
    cores = pin(args.threads)
    rng = np.random.default_rng(0)
    inputs = dict(ids=rng.integers(1, 149, (1, SYMBOLS)).astype(np.int32),
                  mel=rng.normal(0, 1, (1, FRAMES, 80)).astype(np.float32),
                  image=rng.uniform(-1, 1, (1, SIDE, SIDE, 3)).astype(np.float32))
    speaker = None
    if "sentence" in args.only:  # the voice's ids of the sentence are the reference's input too
        speaker = voice()
        inputs["sentence_ids"] = np.array(speaker.ids(speaker.sentences(SENTENCE)), np.int32)
    reference, synth, rounds = {}, {}, []
    for round_ in range(args.rounds):
        print(f"round {round_ + 1} of {args.rounds}", flush=True)
        rounds.append((reference_speeds(inputs, args), synth_speeds(inputs, speaker, args)))
        reference, synth = fastest(reference, rounds[-1][0]), fastest(synth, rounds[-1][1])
    table = rows(synth, reference, rounds)
    print(markdown(table))
    defaults = {name: " ".join(pair) for name, pair in runtime.CPU_DEFAULTS.items()}
    print(json.dumps(dict(cores=cores, cpu_defaults=defaults, reference=reference, synth=dict(
        versions={name: importlib.metadata.version(name) for name in ("tensorflow", "ai-edge-litert")}, **synth),
        rows=table), indent=1))


if __name__ == "__main__":
    main()
