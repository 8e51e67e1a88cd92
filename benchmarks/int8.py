"""How far int8 weights move each network from fp32, both on LiteRT: the figures behind the
CPU defaults in synth/runtime.py's CPU_DEFAULTS and README's "Engines". Full-size configs with
random weights (benchmarks/tts.py's, benchmarks/image.py's) and the tiny reference fixtures.

- Tacotron2: teacher forced (every step fed fp32's frames, so each step's error is its own),
  the largest and mean |int8 - fp32| of the decoder's frames as a share of their spread; then
  free running: the steps whose attention peak (the alignment path) is on the same symbol.
- Multi-band MelGAN: the audio's signal-to-noise ratio, int8's difference being the noise.
- FastSpeech2: the mel's largest and mean difference, and whether the durations agree.
- CycleGAN: PSNR over [0, 255] on the example photos (assets/*.jpg) at the CPU working size,
  for random full-size weights, the tiny fixtures and any generator `--generators` names (a
  folder or repo synth loads: one `synth train` made is closer to trained weights than random
  ones are).

    python benchmarks/int8.py [--only tacotron2,melgan,fastspeech2,cyclegan] [--steps 300]
        [--generators DIR,DIR]
"""
import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image

from synth.image import Generator, GeneratorConfig, Styler
from synth.speech import FastSpeech2, MultiBandMelGAN, Tacotron2
from synth.speech.config import FastSpeech2Config, MultiBandMelGANConfig, Tacotron2Config, build
from tts import FASTSPEECH2_V1, MB_MELGAN_V1, TACOTRON2_V1, random_weights

ROOT = Path(__file__).parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
PHOTO_SIDE = 512  # SYNTH_MAX_SIDE's default on a CPU


def on_litert(make, weights=None):
    """The same network twice, fp32 and int8 weights, both on LiteRT."""
    models = {}
    for precision in ("fp32", "int8"):
        model = make()
        if weights is not None:
            model.set_weights(weights)
        model.engine, model.precision = "litert", precision
        models[precision] = model
    return models


def g4(x):
    return float(f"{x:.4g}")


def tacotron2(models, ids, steps):
    free = {p: m.infer(ids, max_steps=steps) for p, m in models.items()}
    c = models["fp32"].config
    teacher = free["fp32"].mel_before.reshape(len(ids), -1, c.n_mels * c.reduction_factor)
    lengths = np.array([ids.shape[1]] * len(ids), np.int32)
    caps = np.full(len(ids), teacher.shape[1], np.int32)
    forced = {p: m._decode_stepwise(ids, lengths, caps, np.random.default_rng(0), teacher=teacher)
              for p, m in models.items()}
    error = np.abs(forced["int8"].mel_before - forced["fp32"].mel_before)
    spread = free["fp32"].mel_before.std()
    weights = free["fp32"].alignment[0]
    chosen = free["int8"].alignment[0].argmax(0)
    margin = weights.max(0) - weights[chosen, np.arange(weights.shape[1])]
    return dict(steps=int(teacher.shape[1]), frames_std=g4(spread),
                teacher_forced_max_share=g4(error.max() / spread), teacher_forced_mean_share=g4(error.mean() / spread),
                free_running_mel_max=g4(np.abs(free["int8"].mel - free["fp32"].mel).max()),
                path_same_steps=g4((chosen == weights.argmax(0)).mean()),
                path_largest_fp32_margin_lost=g4(margin.max()),
                stop_steps=[free["fp32"].lengths.tolist(), free["int8"].lengths.tolist()])


def snr(audio, reference):
    return g4(10 * np.log10(np.sum(reference ** 2) / np.sum((audio - reference) ** 2)))


def melgan(models, mel):
    audio = {p: m.infer(mel) for p, m in models.items()}
    return dict(snr_db=snr(audio["int8"], audio["fp32"]), max_abs=g4(np.abs(audio["int8"] - audio["fp32"]).max()),
                audio_abs_max=g4(np.abs(audio["fp32"]).max()))


def fastspeech2(models, ids):
    out = {p: m.infer(ids, seed=0) for p, m in models.items()}
    same = out["int8"].lengths.tolist() == out["fp32"].lengths.tolist()
    figures = dict(frames=[out["fp32"].lengths.tolist(), out["int8"].lengths.tolist()], durations_equal=same)
    if same:
        error = np.abs(out["int8"].mel - out["fp32"].mel)
        figures.update(mel_max=g4(error.max()), mel_mean=g4(error.mean()), mel_std=g4(out["fp32"].mel.std()))
    return figures


def psnr(image, reference):
    mse = np.mean((np.asarray(image, np.float64) - np.asarray(reference, np.float64)) ** 2)
    return g4(10 * np.log10(255 ** 2 / mse)) if mse else float("inf")


def cyclegan(generators):
    stylers = {p: Styler(g, max_side=PHOTO_SIDE) for p, g in generators.items()}
    figures = {}
    for path in sorted((ROOT / "assets").glob("*.jpg")):
        photo = Image.open(path)
        figures[path.stem] = psnr(stylers["int8"].stylize(photo), stylers["fp32"].stylize(photo))
    return dict(psnr_db=figures, psnr_min=min(figures.values()))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="tacotron2,melgan,fastspeech2,cyclegan")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--generators", default="", help="more generators for cyclegan, comma-separated")
    args = parser.parse_args()
    wanted, rng, results = args.only.split(","), np.random.default_rng(0), {}
    if "tacotron2" in wanted:
        config = build(Tacotron2Config, dict(TACOTRON2_V1, prenet_dropout_rate=0.0), "v1")
        weights = random_weights(Tacotron2(config).weight_layout(), rng)
        results["tacotron2"] = {"full_size": tacotron2(on_litert(lambda: Tacotron2(config), weights),
                                                       rng.integers(1, 149, (1, 100)).astype(np.int32), args.steps)}
        for name, steps in (("tts_tiny", 60), ("tts_tiny_r2", 30)):
            ids = np.load(FIXTURES / name / "expected.npz")["input_ids"]
            path = str(FIXTURES / name / "tacotron2")
            results["tacotron2"][name] = tacotron2(on_litert(lambda: Tacotron2.from_pretrained(path)), ids, steps)
    if "melgan" in wanted:
        config = build(MultiBandMelGANConfig, MB_MELGAN_V1, "v1")
        weights = random_weights(MultiBandMelGAN(config).weight_layout(), rng)
        results["melgan"] = {"full_size": melgan(on_litert(lambda: MultiBandMelGAN(config), weights),
                                                 rng.normal(size=(1, 200, 80)).astype(np.float32))}
        for name in ("tts_tiny", "tts_tiny_r2"):
            mel = np.load(FIXTURES / name / "expected.npz")["mel"]
            path = str(FIXTURES / name / "mb_melgan")
            results["melgan"][name] = melgan(on_litert(lambda: MultiBandMelGAN.from_pretrained(path)), mel)
    if "fastspeech2" in wanted:
        config = build(FastSpeech2Config, FASTSPEECH2_V1, "fastspeech2.v1")
        weights = random_weights(FastSpeech2(config).weight_layout(), rng)
        results["fastspeech2"] = {"full_size": fastspeech2(on_litert(lambda: FastSpeech2(config), weights),
                                                           rng.integers(1, 149, (1, 100)).astype(np.int32))}
        ids = np.load(FIXTURES / "fastspeech2_tiny" / "expected.npz")["input_ids"]
        path = str(FIXTURES / "fastspeech2_tiny" / "fastspeech2")
        results["fastspeech2"]["fastspeech2_tiny"] = fastspeech2(on_litert(lambda: FastSpeech2.from_pretrained(path)), ids)
    if "cyclegan" in wanted:
        layout = Generator(GeneratorConfig()).weight_layout()
        weights = {name: rng.normal(0, 0.05, shape).astype(np.float32) for name, shape in layout}
        results["cyclegan"] = {"full_size": cyclegan(on_litert(lambda: Generator(GeneratorConfig()), weights))}
        more = [str(FIXTURES / "cyclegan_keras_tiny" / "savedmodel"), str(FIXTURES / "unet_tutorial_tiny" / "savedmodel")]
        for source in more + [name for name in args.generators.split(",") if name]:
            results["cyclegan"][source] = cyclegan(on_litert(lambda: Generator.from_pretrained(source)))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
