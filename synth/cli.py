"""`synth speak | stylize | convert | train | models | download | doctor` — the engines from a terminal."""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}


class UsageError(Exception):
    """A command line that cannot work, found before any model (or TensorFlow) loads."""


def _check_model(name: str, task: str, option: str) -> None:
    """A catalog name of the right kind, a local directory (or Keras .h5 file) or a Hub repo id (org/name)."""
    from synth import catalog

    path = Path(name).expanduser()
    if path.is_dir() or (path.suffix == ".h5" and path.is_file()) or ("/" in name and name not in catalog.MODELS):
        return
    valid = ", ".join(m.name for m in catalog.models(task) if m.available)
    if name in catalog.MODELS and catalog.MODELS[name].task != task:
        raise UsageError(f"{option} {name}: that is a {catalog.MODELS[name].task}, not a {task}; {task}s: {valid}")
    if name not in catalog.MODELS:
        raise UsageError(f"{option} {name}: unknown {task}; {task}s: {valid} (or a local directory, or a Hub "
                         "repo id org/name)")


def _check_controls(args) -> None:
    """--pitch / --energy only for a catalog voice whose model family has them."""
    from synth import catalog

    model = catalog.MODELS.get(args.voice)
    for name in ("pitch", "energy"):
        if model and getattr(args, name) != 1.0 and name not in model.controls:
            with_it = ", ".join(m.name for m in catalog.models("voice") if name in m.controls)
            raise UsageError(f"--{name}: {args.voice} ({model.display()}) has no {name} control; "
                             f"voices that do: {with_it}")


def _text(args) -> str:
    """The text to speak: the argument, or the whole of -f FILE (UTF-8)."""
    if (args.text is None) == (args.file is None):
        raise UsageError("give the text to speak, or -f FILE, not both")
    if args.file is None:
        return args.text
    try:
        return Path(args.file).read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise UsageError(f"no such file: {args.file}") from e
    except UnicodeDecodeError as e:
        raise UsageError(f"{args.file} is not UTF-8 text (byte {e.start}); save it as UTF-8") from e


def _speak(args) -> int:
    if args.vocoder is None:
        _check_model(args.voice, "voice", "--voice")
        _check_controls(args)
    text = _text(args)
    from synth.errors import OptionError
    from synth.audio import format_of

    try:
        fmt = format_of(args.output)
    except OptionError as e:
        raise UsageError(f"-o {e}") from e
    if args.subtitles and Path(args.subtitles).suffix.lower().lstrip(".") not in ("vtt", "srt"):
        raise UsageError(f"--subtitles {args.subtitles}: name a .vtt or .srt file")
    for option, path in (("-o", args.output), ("--subtitles", args.subtitles), ("--timings", args.timings)):
        if path and not Path(path).absolute().parent.is_dir():
            raise UsageError(f"{option} {path}: no such folder: {Path(path).absolute().parent}")
    from tqdm import tqdm

    from synth import hub
    from synth.audio import AudioWriter
    from synth.errors import ModelDamaged
    from synth.speech import SpeechOptions, Voice

    options = SpeechOptions(seed=args.seed, max_steps=args.max_steps, speed=args.speed, pitch=args.pitch,
                            energy=args.energy)
    try:
        voice = Voice.from_pretrained(args.voice, vocoder=args.vocoder, max_chars=max(len(text), 1))
    except ModelDamaged as e:  # a vocoder several voices share: said of the one asked for
        damaged = hub.damaged_as(e, args.voice)
        if damaged is e:
            raise
        raise damaged from e.__cause__
    sentences = voice.sentences(text)
    skipped = voice.unspeakable(text)
    if skipped:
        print(f"skipped, this voice cannot say: {' '.join(skipped)}", file=sys.stderr)
    # Sentence by sentence into the file: memory stays flat for a text of any length, and
    # Ctrl-C leaves a playable file of what was made (the writer closes it).
    samples, done, start, words = 0, 0, time.perf_counter(), []
    with AudioWriter(args.output, fmt, voice.sample_rate) as writer, \
            tqdm(total=len(sentences), unit="sentence", disable=None) as bar:
        try:
            for chunk in voice.stream(text, options):
                audio = chunk.samples()
                writer.write(audio)
                samples, done, words = samples + len(audio), done + 1, words + chunk.words
                bar.set_postfix(rtf=f"{(time.perf_counter() - start) * voice.sample_rate / samples:.3f}")
                bar.update(1)
        except KeyboardInterrupt:
            print(f"interrupted: {args.output} holds the first {done} of {len(sentences)} sentence(s)",
                  file=sys.stderr)
            _write_timings(args, words, text, samples / voice.sample_rate)
            return 130
    print(f"{args.output}: {samples / voice.sample_rate:.2f} s at {writer.file_rate} Hz, {done} sentence(s)")
    _write_timings(args, words, text, samples / voice.sample_rate)
    return 0


def _write_timings(args, words, text: str, duration: float) -> None:
    """--subtitles and --timings, for the words in the audio written (all, or up to a Ctrl-C)."""
    if args.subtitles:
        from synth.speech import subtitles

        cues = subtitles.write(args.subtitles, words, text, duration)
        print(f"{args.subtitles}: subtitles, {len(cues)} cue(s)")
    if args.timings:
        Path(args.timings).write_text(json.dumps({"duration": round(duration, 4),
                                                  "words": [w.as_dict() for w in words]},
                                                 ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"{args.timings}: timings of {len(words)} word(s)")


def _image_files(inputs: list[str]) -> list[Path]:
    """The files named and those in the folders named (not hidden ones): each is tried, and
    what is not an image is skipped and listed."""
    files = []
    for item in map(Path, inputs):
        if item.is_dir():
            files += sorted(p for p in item.iterdir() if p.is_file() and not p.name.startswith("."))
        else:
            files.append(item)
    return files


def _output(args, files: list[Path]) -> tuple[Path, bool]:
    """(-o path, whether it is a folder): one input file may go to a file or into a folder;
    several inputs, or a folder of them, go into a folder, never to one image file."""
    output = Path(args.output)
    several = len(files) > 1 or any(Path(i).is_dir() for i in args.inputs)
    if several and output.suffix.lower() in IMAGE_SUFFIXES:
        raise UsageError(f"-o {args.output}: {len(files)} images cannot go into one file; give a folder")
    return output, several or output.is_dir() or args.output.endswith(("/", "\\"))


def _stylize(args) -> int:
    _check_model(args.model, "style", "-m/--model")
    missing = [i for i in args.inputs if not Path(i).exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    files = _image_files(args.inputs)
    if not any(f.suffix.lower() in IMAGE_SUFFIXES for f in files):
        raise UsageError(f"no images in {' '.join(args.inputs)} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    output, to_folder = _output(args, files)

    from tqdm import tqdm

    from synth.errors import ImageError
    from synth.image import Styler, load_image

    if to_folder:
        output.mkdir(parents=True, exist_ok=True)
    styler = Styler.from_pretrained(args.model, max_side=args.max_side)
    failed = 0
    with tqdm(total=len(files), unit="image", disable=len(files) < 2) as bar:
        for start in range(0, len(files), args.batch_size):
            loaded = []
            for path in files[start:start + args.batch_size]:
                try:
                    loaded.append((path, load_image(path, args.max_side)))
                except ImageError as e:  # one bad file is reported and skipped
                    failed += 1
                    tqdm.write(f"skipped {path}: {e}", file=sys.stderr)
                    bar.update(1)
            for (path, _), image in zip(loaded, styler.stylize_batch([a for _, a in loaded])):
                target = output / f"{path.stem}.png" if to_folder else output
                image.save(target)
                bar.update(1)
    print(f"{len(files) - failed} image(s) written to {output}" + (f", {failed} skipped" if failed else ""))
    return 1 if failed == len(files) else 0


def _convert(args) -> int:
    source = Path(args.source)
    if not source.is_file():
        raise UsageError(f"no such file: {source}")
    if source.suffix not in (".pth", ".pt", ".safetensors"):
        raise UsageError(f"{source}: expected a PyTorch state dict (.pth, .pt) or its .safetensors copy")
    from synth.image.convert import convert

    generator = convert(source, args.output)
    c = generator.config
    print(f"{args.output}: ResNet generator, {c.filters} filters, {c.n_blocks} blocks, from {source}; "
          f"use it with `synth stylize -m {args.output}`")
    return 0


def _train(args) -> int:
    for option, folder in (("A_DIR", args.a_dir), ("B_DIR", args.b_dir)):
        if not Path(folder).is_dir():
            raise UsageError(f"{option} {folder}: no such folder")
    files = {name: _image_files([folder]) for name, folder in (("A", args.a_dir), ("B", args.b_dir))}
    for name, found in files.items():
        if not found:
            raise UsageError(f"no images in {args.a_dir if name == 'A' else args.b_dir} (looked for "
                             f"{', '.join(sorted(IMAGE_SUFFIXES))})")
    run = Path(args.out)
    saved = (run / "train" / "run.json").is_file()  # synth.image.train.RUN_FILE, read before TensorFlow loads
    if args.resume and not saved:
        raise UsageError(f"--resume: {run} holds no training run to continue")
    if saved and not args.resume:
        raise UsageError(f"--out {run} already holds a training run: pass --resume to continue it, or choose "
                         "another folder")
    from synth.image.train import Trainer, TrainConfig, epochs_to_steps

    steps, epochs = getattr(args, "steps", None), getattr(args, "epochs", None)
    if epochs is not None or (steps is None and not args.resume):
        steps = epochs_to_steps(200 if epochs is None else epochs, len(files["A"]), len(files["B"]))
    if args.resume:  # the saved run's settings; --steps/--epochs move its end
        trainer = Trainer.resume(run, files["A"], files["B"], steps=steps)
    else:
        config = TrainConfig(arch=args.arch, size=args.size, steps=steps, ngf=args.ngf, blocks=args.blocks,
                             seed=args.seed)
        trainer = Trainer(files["A"], files["B"], config, run)
    try:
        step = trainer.train(minutes=args.minutes, every=args.sample_every)
    except KeyboardInterrupt:
        print(f"stopped at step {trainer.step}, saved in {run}; continue with --resume", file=sys.stderr)
        return 130
    print(f"{run}: step {step} of {trainer.config.steps}; restyle A -> B with `synth stylize PHOTO -m {run} "
          f"-o OUT`, B -> A with -m {run / 'inverse'}")
    return 0


def _models(args) -> int:
    from synth import catalog, hub

    print(f"{'name':<24} {'task':<6} {'lang':<5} {'size':>9}  {'cached':<7} note")
    for model in catalog.models():
        cached = "yes" if hub.is_cached(model.name) else "no"
        note = model.display("en") if model.available else f"unavailable: {model.unavailable}"
        language = model.language or "-"
        print(f"{model.name:<24} {model.task:<6} {language:<5} {model.size_mb:>6.0f} MB  {cached:<7} {note}")
    return 0


def _download(args) -> int:
    from synth import catalog, hub
    from synth.errors import SynthError

    names = [m.name for m in catalog.models()] if args.all else args.names
    if not names:
        raise UsageError(f"name the models to download, or pass --all; models: {', '.join(catalog.MODELS)}")
    failed = 0
    for name in names:
        try:
            paths = hub.download(name, force=args.force)
            print(f"{name}: ok ({', '.join(map(str, paths))})")
            ran = _run_once(name)
            if ran:
                print(f"{name}: ready to run: {', '.join(ran)}")
        except SynthError as e:
            failed += 1
            print(f"{name}: FAILED: {e}", file=sys.stderr)
    return 1 if failed else 0


def _run_once(name: str) -> list[str]:
    """Each network of a downloaded model run once, where an engine of this machine needs an
    export (LiteRT: runtime.py), so that it is made now (at download, e.g. while a Docker
    image builds) and not on the first request. Returns "network: engine precision" of each,
    and its part that runs otherwise: "FastSpeech2: LiteRT int8 (encoder: LiteRT fp32)"."""
    import numpy as np

    from synth import catalog, runtime

    model = catalog.get(name)
    families = [catalog.FAMILIES[model.family], "MultiBandMelGAN"] if model.task == "voice" else ["Generator"]
    if all(runtime.engine(runtime.CPU_DEFAULTS[family][0]) == "tensorflow" for family in families):
        return []  # nothing to export: TensorFlow runs the checkpoints as they are
    if model.task == "voice":
        from synth.speech import SpeechOptions, Voice

        voice = Voice.from_pretrained(name)
        voice.to_mel([[1, 2, 3]], SpeechOptions(max_steps=1))
        voice.vocoder.infer(np.zeros((1, voice.vocoder.min_frames, 80), np.float32))
        networks = [voice.text_to_mel, voice.vocoder]
    else:
        from synth.image import Styler

        styler = Styler.from_pretrained(name)
        styler.stylize(np.zeros((256, 256, 3), np.uint8))  # the size of the example photos' thumbnails
        networks = [styler.generator]
    return [f"{type(n).__name__}: {runtime.said(n.engine, n.precision, n.apart())}" for n in networks]


def _doctor(args) -> int:
    """Check the cached catalog models against the sizes and hashes they were downloaded with;
    fetch again what is damaged (unless --check-only). 1 when something stays wrong."""
    from synth import catalog, hub
    from synth.errors import ModelUnavailable

    for name in args.names:
        if name not in catalog.MODELS:
            raise UsageError(f"unknown model '{name}'; models: {', '.join(catalog.MODELS)}")
    names = args.names or [m.name for m in catalog.models()]
    wrong = 0
    for name in names:
        health = hub.check(name)
        if not health.downloaded:
            print(f"{name}: not downloaded")
            continue
        partly = f" (partly downloaded: `synth download {name}` fetches the rest)" if health.absent else ""
        if not health.damage:
            print(f"{name}: ok{partly}")
            continue
        for damage in health.damage:
            print(f"{name}: DAMAGED: {damage.file} {damage.problem}", file=sys.stderr)
        if args.check_only:
            wrong += 1
            print(f"{name}: not repaired (--check-only): run `synth doctor {name}` to fetch it again",
                  file=sys.stderr)
            continue
        try:
            health = hub.repair(name)
        except ModelUnavailable as e:
            wrong += 1
            why = {"offline": "offline mode is on (HF_HUB_OFFLINE=1)",
                   "unreachable": "the Hugging Face Hub cannot be reached"}.get(e.reason, str(e))
            print(f"{name}: NOT REPAIRED: {why}; run `synth doctor {name}` (or `synth download {name} --force`) "
                  "where the Hugging Face Hub can be reached", file=sys.stderr)
            continue
        if health.damage:
            wrong += 1
            for damage in health.damage:
                print(f"{name}: STILL DAMAGED after fetching it again: {damage.file} {damage.problem}",
                      file=sys.stderr)
        else:
            print(f"{name}: repaired")
    return 1 if wrong else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="synth", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    defaults = {"formatter_class": argparse.ArgumentDefaultsHelpFormatter}

    speak = commands.add_parser("speak", help="text -> audio file (.wav, .flac, .mp3, .opus, .ogg, .pcm)", **defaults)
    speak.add_argument("text", nargs="?", help="what to say (or -f FILE)")
    speak.add_argument("-f", "--file", help="a UTF-8 text file to read aloud, of any length")
    speak.add_argument("--voice", default="ljspeech-en", help="catalog voice (see `synth models`), or a "
                       "text-to-mel directory/repo id with --vocoder")
    speak.add_argument("--vocoder", help="Multi-band MelGAN directory/repo id (when --voice is not a catalog name)")
    speak.add_argument("-o", "--output", default="speech.wav", help="its extension picks the format")
    speak.add_argument("--seed", type=int, help="makes dropout, and so the audio, reproducible")
    speak.add_argument("--max-steps", type=int, help="decoder-step cap per sentence (Tacotron2)")
    speak.add_argument("--speed", type=float, default=1.0, help="0.25 (slower) to 4.0 (faster), same pitch")
    speak.add_argument("--pitch", type=float, default=1.0, help="0.5 (lower) to 2.0 (higher) (FastSpeech2 voices)")
    speak.add_argument("--energy", type=float, default=1.0, help="0.5 (softer) to 2.0 (louder) (FastSpeech2 voices)")
    speak.add_argument("--subtitles", metavar="FILE", help="also write subtitles timed to the words: .vtt or .srt")
    speak.add_argument("--timings", metavar="FILE", help="also write each word's start and end seconds (JSON)")
    speak.set_defaults(run=_speak)

    stylize = commands.add_parser("stylize", help="restyle images with a CycleGAN generator", **defaults)
    stylize.add_argument("inputs", nargs="+", help="image files or folders")
    stylize.add_argument("-m", "--model", default="horse2zebra", help="catalog name, directory or repo id")
    stylize.add_argument("-o", "--output", required=True,
                         help="output PNG file (one input) or folder (several inputs, or ending in /)")
    stylize.add_argument("--max-side", type=int, default=1024, help="working size: longest side in pixels")
    stylize.add_argument("--batch-size", type=int, default=4)
    stylize.set_defaults(run=_stylize)

    convert = commands.add_parser("convert", help="a CycleGAN authors' PyTorch generator (latest_net_G.pth) "
                                  "-> a native generator folder", **defaults)
    convert.add_argument("source", help="the ResnetGenerator state dict: .pth (read without torch; any "
                         "PyTorch version's format) or the same as .safetensors")
    convert.add_argument("output", help="folder to write config.json + model.safetensors into")
    convert.set_defaults(run=_convert)

    train = commands.add_parser("train", help="train a CycleGAN on two folders of unpaired images", **defaults)
    train.add_argument("a_dir", metavar="A_DIR", help="images of domain A (e.g. photos)")
    train.add_argument("b_dir", metavar="B_DIR", help="images of domain B (e.g. paintings)")
    train.add_argument("--out", required=True, help="run folder: checkpoints, sample grids, loss curves; "
                       "it loads as a style (A -> B; OUT/inverse: B -> A)")
    train.add_argument("--arch", choices=("resnet", "unet"), default="resnet",
                       help="generator: the paper's ResNet or the TensorFlow tutorial's U-Net")
    train.add_argument("--size", type=int, default=256, help="training crop side in pixels (a multiple of 4)")
    length = train.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, default=argparse.SUPPRESS, help="training steps (one image pair each)")
    length.add_argument("--epochs", type=int, default=argparse.SUPPRESS,
                        help="passes over the larger folder; without --steps or --epochs: 200, the paper's")
    train.add_argument("--ngf", type=int, default=64, help="generator width")
    train.add_argument("--blocks", type=int, default=9, help="ResNet residual blocks")
    train.add_argument("--sample-every", type=int, default=100,
                       help="steps between sample grids, loss curves and checkpoints")
    train.add_argument("--minutes", type=float, help="stop (and save) after this long")
    train.add_argument("--seed", type=int, default=0, help="the run's every random choice follows from it")
    train.add_argument("--resume", action="store_true", help="continue the run saved in --out from its step")
    train.set_defaults(run=_train)

    models = commands.add_parser("models", help="list the catalog and what is cached")
    models.set_defaults(run=_models)

    download = commands.add_parser("download", help="fetch catalog models into the Hugging Face cache",
                                     **defaults)
    download.add_argument("names", nargs="*")
    download.add_argument("--all", action="store_true", help="every model in the catalog")
    download.add_argument("--force", action="store_true",
                          help="fetch every file again, even those cached (repairs a damaged model)")
    download.set_defaults(run=_download)

    doctor = commands.add_parser("doctor", help="check the cached models against the sizes and hashes they "
                                 "were downloaded with, and fetch again what is damaged", **defaults)
    doctor.add_argument("names", nargs="*", help="catalog models (default: all)")
    doctor.add_argument("--check-only", action="store_true", help="report, repair nothing")
    doctor.set_defaults(run=_doctor)
    return parser


def main(argv: list[str] | None = None) -> None:
    from synth.errors import SynthError

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        sys.exit(args.run(args))
    except UsageError as e:
        print(f"synth {args.command}: {e}", file=sys.stderr)
        sys.exit(2)
    except SynthError as e:
        print(f"synth {args.command}: {e}", file=sys.stderr)
        sys.exit(1)
